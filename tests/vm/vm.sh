#!/bin/bash
# Boots Debian's kernel (which has IPVS) under qemu/TCG with the host's / as a read-only
# root over virtio-9p, runs one host script in it with bash, and returns its exit code.
# Usage: tests/vm/vm.sh SCRIPT [ARGS...]
#   VIPD_VM_TIMEOUT   seconds before qemu is killed (default 300, at least 60); the
#                     scenario itself is stopped 30 s earlier inside the guest (exit 124)
#   VIPD_VM_MEM       guest memory (default 1G)
#   VIPD_VM_KERNEL    kernel version to boot (default: newest with ip_vs)
set -euo pipefail

vm_die() {
	echo "vm.sh: $*" >&2
	exit 125
}

# Newest /boot/vmlinuz-*-amd64 whose module tree carries ip_vs.
vm_find_kernel() {
	local image version best=""
	for image in /boot/vmlinuz-*-amd64; do
		[[ -e $image ]] || continue
		version=${image#/boot/vmlinuz-}
		[[ -n $(find "/lib/modules/$version" -name 'ip_vs.ko*' -print -quit 2>/dev/null) ]] || continue
		best=$(printf '%s\n%s\n' "$best" "$version" | sed '/^$/d' | sort -V | tail -n 1)
	done
	echo "$best"
}

# Module files needed to mount 9p over virtio-pci, in an order insmod accepts
# (each module after everything it depends on).
vm_module_files() {
	local version=$1 mod
	for mod in virtio_pci 9pnet_virtio 9p; do
		modprobe -S "$version" --show-depends "$mod" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++'
}

vm_write_init() {
	cat >"$1" <<'EOF'
#!/bin/busybox sh
# Stage 1 (initramfs): load the 9p modules, mount the host's / and switch_root into it.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /newroot
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
fail() {
	echo "vm init: $*"
	echo "VIPD-VM-EXIT=125"
	echo o >/proc/sysrq-trigger
	sleep 60
}
for ko in $(cat /modules.list); do
	insmod "/modules/${ko##*/}" || fail "insmod $ko failed"
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose host /newroot ||
	fail "cannot mount host / over 9p"
run=$(sed -n 's/.*vipd_run=\([^ ]*\).*/\1/p' /proc/cmdline)
[ -n "$run" ] || fail "no vipd_run= on the kernel command line"
# The run file may live under the host's /tmp, which the tmpfs below hides: keep a copy.
cp "/newroot$run" /run.sh || fail "cannot read $run from the host"
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount --move /dev /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
# devtmpfs has no /dev/fd: bash's <(...) needs it.
ln -sf /proc/self/fd /newroot/dev/fd
ln -sf /proc/self/fd/0 /newroot/dev/stdin
ln -sf /proc/self/fd/1 /newroot/dev/stdout
ln -sf /proc/self/fd/2 /newroot/dev/stderr
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
mount -t tmpfs -o mode=755 tmpfs /newroot/run
mkdir -p /newroot/run/vipd-vm/hosttmp
# The guest gets its own /tmp; the host's /tmp entries the run needs (a
# checkout or build tree under /tmp, as a CI clone may be) are bound back.
tmpbinds=$(sed -n 's/.*vipd_tmp=\([^ ]*\).*/\1/p' /proc/cmdline)
[ -n "$tmpbinds" ] && mount --bind /newroot/tmp /newroot/run/vipd-vm/hosttmp
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
for name in $(echo "$tmpbinds" | tr ',' ' '); do
	mkdir -p "/newroot/tmp/$name"
	mount --bind "/newroot/run/vipd-vm/hosttmp/$name" "/newroot/tmp/$name" ||
		fail "cannot bind the host's /tmp/$name"
done
cp /run.sh /newroot/run/vipd-vm/run.sh
cp /stage2.sh /newroot/run/vipd-vm/stage2.sh
umount /proc
exec switch_root /newroot /bin/bash /run/vipd-vm/stage2.sh
EOF
	cat >"$2" <<'EOF'
# Stage 2 (host root, PID 1): run the scenario, report its code, power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp TERM=dumb
ip link set lo up
echo "VIPD-VM: $(uname -r) up"
bash /run/vipd-vm/run.sh </dev/null
rc=$?
[ "$rc" -eq 124 ] && echo "VIPD-VM: the scenario was stopped at its time limit (VIPD_VM_TIMEOUT - 30 s)"
echo "VIPD-VM-EXIT=$rc"
sync
echo o >/proc/sysrq-trigger
# A builtin wait: the host root (and /usr/bin/sleep) goes away as the guest powers off.
read -r -t 60 _ 2>/dev/null
EOF
}

# Builds the initramfs into $cache unless one built from the same inputs is there.
vm_build_initramfs() {
	local version=$1 cache=$2 self key out tmp
	self=$(readlink -f "${BASH_SOURCE[0]}")
	mapfile -t modules < <(vm_module_files "$version")
	[[ ${#modules[@]} -gt 0 ]] || vm_die "no 9p/virtio modules found for kernel $version"
	key=$( {
		echo "$version"
		sha256sum "$self" /bin/busybox
		stat -c '%n %s %Y' "${modules[@]}"
	} | sha256sum | cut -c1-16)
	out="$cache/initramfs-$version-$key.cpio.gz"
	if [[ -s $out ]]; then
		echo "$out"
		return
	fi
	tmp=$(mktemp -d "$cache/build.XXXXXX")
	mkdir -p "$tmp/root/bin" "$tmp/root/modules"
	cp /bin/busybox "$tmp/root/bin/busybox"
	local ko name
	# busybox insmod reads plain .ko files only.
	for ko in "${modules[@]}"; do
		name=${ko##*/}
		name=${name%.ko*}.ko
		case $ko in
		*.ko.xz) xz -dc "$ko" ;;
		*.ko.zst) zstd -qdc "$ko" ;;
		*.ko.gz) gzip -dc "$ko" ;;
		*) cat "$ko" ;;
		esac >"$tmp/root/modules/$name"
		echo "$name" >>"$tmp/root/modules.list"
	done
	vm_write_init "$tmp/root/init" "$tmp/root/stage2.sh"
	chmod 755 "$tmp/root/init"
	local cpio=(cpio)
	command -v cpio >/dev/null || cpio=(busybox cpio)
	(cd "$tmp/root" && find . | LC_ALL=C sort | "${cpio[@]}" -o -H newc 2>/dev/null) |
		gzip -1 >"$tmp/initramfs.cpio.gz"
	# Atomic so that VM tests started in parallel never boot a half-written file.
	mv "$tmp/initramfs.cpio.gz" "$out"
	rm -rf "$tmp"
	find "$cache" -maxdepth 1 -name "initramfs-$version-*.cpio.gz" ! -path "$out" -delete
	echo "$out"
}

# The run file the guest executes: environment, working directory, then the script.
vm_write_run_file() {
	local file=$1 script=$2 guest_timeout=$3
	shift 3
	{
		echo "# generated by vm.sh"
		local var
		for var in VIPD_BUILD_DIR VIPD_SOURCE_DIR VIPD_VM_VERBOSE; do
			[[ -n ${!var:-} ]] && printf 'export %s=%q\n' "$var" "${!var}"
		done
		printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
		# Inside the guest too, so that a hung scenario still reports (124) before
		# qemu is killed; timeout signals the whole process group, daemons included.
		printf 'exec timeout -k 5 %d bash %q' "$guest_timeout" "$script"
		printf ' %q' "$@"
		echo
	} >"$file"
}

vm_main() {
	[[ $# -ge 1 ]] || vm_die "usage: vm.sh SCRIPT [ARGS...]"
	local script version cache initramfs log rc timeout_s
	script=$(readlink -f "$1") || vm_die "no such script: $1"
	[[ -f $script ]] || vm_die "no such script: $1"
	shift
	# Paths under the host's /tmp are bound into the guest's own /tmp by
	# their first component (vipd_tmp= on the kernel command line).
	local path name tmpbinds=""
	for path in "$script" "$(readlink -f "${VIPD_BUILD_DIR:-/}")" \
		"$(readlink -f "${VIPD_SOURCE_DIR:-/}")"; do
		case $path in
		/tmp) vm_die "$path is the host's /tmp itself, which the guest replaces with its own tmpfs" ;;
		/tmp/*)
			name=${path#/tmp/}
			name=${name%%/*}
			[[ $name =~ ^[A-Za-z0-9._-]+$ ]] ||
				vm_die "/tmp/$name: only names of letters, digits, '.', '_' and '-' can be shared with the guest"
			[[ ,$tmpbinds, == *,$name,* ]] || tmpbinds=${tmpbinds:+$tmpbinds,}$name
			;;
		esac
	done
	command -v qemu-system-x86_64 >/dev/null ||
		vm_die "qemu-system-x86_64 not found: apt-get install linux-image-amd64 qemu-system-x86 busybox-static"
	# The initramfs has no libc: a dynamic busybox names its loader.
	[[ -x /bin/busybox ]] && ! LC_ALL=C grep -qa '/ld-linux' /bin/busybox ||
		vm_die "no static /bin/busybox: apt-get install linux-image-amd64 qemu-system-x86 busybox-static"
	version=${VIPD_VM_KERNEL:-$(vm_find_kernel)}
	[[ -n $version && -r /boot/vmlinuz-$version ]] ||
		vm_die "no kernel with IPVS modules in /boot and /lib/modules: apt-get install linux-image-amd64 qemu-system-x86 busybox-static"

	cache=${VIPD_BUILD_DIR:-/tmp}/vm
	mkdir -p "$cache"
	initramfs=$(vm_build_initramfs "$version" "$cache")
	vm_rundir=$(mktemp -d "$cache/run.XXXXXX")
	trap 'rm -rf "$vm_rundir"' EXIT
	timeout_s=${VIPD_VM_TIMEOUT:-300}
	[[ $timeout_s =~ ^[0-9]+$ && $timeout_s -ge 60 ]] || vm_die "VIPD_VM_TIMEOUT must be 60 s or more"
	vm_write_run_file "$vm_rundir/run.sh" "$script" $((timeout_s - 30)) "$@"
	log=$vm_rundir/console.log

	set +e
	timeout -k 5 "$timeout_s" qemu-system-x86_64 \
		-accel tcg -cpu max -m "${VIPD_VM_MEM:-1G}" -smp 1 \
		-nic none -display none -monitor none -serial stdio -no-reboot \
		-kernel "/boot/vmlinuz-$version" -initrd "$initramfs" \
		-append "console=ttyS0 panic=-1 quiet loglevel=3 vipd_run=$vm_rundir/run.sh${tmpbinds:+ vipd_tmp=$tmpbinds}" \
		-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
		</dev/null 2>&1 | tr -d '\r' | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	if [[ $rc -eq 124 || $rc -eq 137 ]]; then
		echo "vm.sh: VM killed after ${timeout_s}s (VIPD_VM_TIMEOUT)" >&2
		return 124
	fi
	local line
	line=$(grep -a '^VIPD-VM-EXIT=' "$log" | tail -n 1 || true)
	[[ -n $line ]] || vm_die "the VM stopped (qemu status $rc) without reporting an exit code"
	return "${line#VIPD-VM-EXIT=}"
}

vm_rundir=""
vm_main "$@"
