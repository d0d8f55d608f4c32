# IPVS works end to end in the VM: NAT service, two backends, weight 0 drains one.
set -eu
here=$(dirname "$(readlink -f "$0")")
exec bash "$here/vm.sh" "$here/guest/ipvs_smoke.sh"
