# Guest side of ipvs_smoke: two backends behind an IPVS NAT service, driven by ipvsadm.
set -u
. "$VIPD_SOURCE_DIR/tests/vm/lib.sh"

VIP=10.10.0.1
lib_modules ip_vs ip_vs_rr veth dummy
lib_backend_netns be1 10.201.0.1/24 10.201.0.2/24
lib_backend_netns be2 10.202.0.1/24 10.202.0.2/24
lib_responder be1 backend-1 8080
lib_responder be2 backend-2 8080
lib_vip vip0 $VIP/32
lib_wait_port be1 10.201.0.2 8080
lib_wait_port be2 10.202.0.2 8080

ipvsadm -A -t $VIP:80 -s rr || lib_fail "ipvsadm add service"
ipvsadm -a -t $VIP:80 -r 10.201.0.2:8080 -m -w 1 || lib_fail "ipvsadm add be1"
ipvsadm -a -t $VIP:80 -r 10.202.0.2:8080 -m -w 1 || lib_fail "ipvsadm add be2"
ipvsadm -Ln

lib_assert_eq "backend-1 backend-2" "$(lib_who_answers http://$VIP/ 6)" "both backends answer the VIP"

ipvsadm -e -t $VIP:80 -r 10.201.0.2:8080 -m -w 0 || lib_fail "ipvsadm weight 0"
lib_assert_eq "backend-2" "$(lib_who_answers http://$VIP/ 6)" "weight 0 takes backend-1 out"
ipvsadm -Ln
