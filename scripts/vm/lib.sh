# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# What the VM's users share: the VM's kernel (tests/vm/run.sh and the VM
# benches), and for the benches (bench/kmod-overhead, bench/forkbomb-vm,
# bench/overhead-vm) qemu's -icount setup and a boot whose "figure" lines
# are printed and whose failure is explained.
#
#   . scripts/vm/lib.sh NAME     (NAME: the caller's, its messages' prefix)

vm_name=${1:?scripts/vm/lib.sh NAME}
vm_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

vm_die() { echo "$vm_name: $*" >&2; exit 1; }

# vm_kvm: succeed when the VM is to run under KVM: only when asked for
# (LYMPH_VM_KVM=1), and then /dev/kvm must be usable, else it dies saying
# so.  TCG by default: a /dev/kvm that is there is not one that can run a
# stock kernel (on a paravirtual one seen here, Debian's 6.12 died at its
# decompressor, "KVM internal error ... emulation failure", and every VM
# test timed out).
vm_kvm() {
	[ "${LYMPH_VM_KVM:-0}" = 1 ] || return 1
	[ -r /dev/kvm ] && [ -w /dev/kvm ] ||
		vm_die "LYMPH_VM_KVM=1 but /dev/kvm is not there or not usable by $(id -un): unset it to run under TCG"
}

# vm_kernel [MISSING]: sets kernel, kver and kdir to Debian's 6.12 cloud
# kernel and its headers, or calls MISSING (default vm_die) saying what to
# install.  (The caller declares the three, for shellcheck.)
vm_kernel() {
	local missing=${1:-vm_die}
	command -v qemu-system-x86_64 >/dev/null || $missing "qemu-system-x86_64 not installed (scripts/deps.sh --vm)"
	kernel=$(ls /boot/vmlinuz-6.12.*-cloud-amd64 2>/dev/null | sort -V | tail -n1)
	[ -n "$kernel" ] || $missing "no /boot/vmlinuz-6.12.*-cloud-amd64 (scripts/deps.sh --vm)"
	kver=${kernel#/boot/vmlinuz-}
	kdir=/usr/src/linux-headers-$kver
	[ -d "$kdir" ] || $missing "no headers for $kver in $kdir (scripts/deps.sh --vm)"
	[ -r "$kernel" ] || $missing "$kernel not readable (run as root)"
}

# vm_kmod BUILD OUT: lymph.ko for the VM's kernel, in BUILD/kmod.
vm_kmod() {
	make -s -C "$vm_top" --no-print-directory kmod KDIR="$kdir" BUILD="$1" >"$2/kmod-build.log" 2>&1 ||
		{ tail -n 40 "$2/kmod-build.log" >&2; vm_die "lymph.ko does not build against $kdir"; }
}

# vm_icount SHIFT: the next boots under qemu's -icount shift=SHIFT,sleep=off
# (TCG only): the guest's clock counts the instructions the guest executes.
# Under -icount the guest runs about 5x slower than its own clock says
# (TCG's speed on a 2-CPU host; idle time costs nothing): the timeout is
# doubled.  Sets accel.
vm_icount() {
	export LYMPH_VM_KVM=0 LYMPH_VM_ICOUNT="shift=$1,sleep=off,align=off"
	LYMPH_VM_TIMEOUT=$(( LYMPH_VM_TIMEOUT * 2 ))
	accel="TCG icount shift=$1"
}

# vm_emulator_fault OUT: the guest's Oops shows EFLAGS with reserved bits
# (22-31) set, which no x86 CPU pushes: qemu's state went wrong, not the
# guest's code.  qemu 7.2 under -icount does this now and then: on
# 2026-11-30, 5 boots of 16 died so in copy_process or do_coredump
# (mas_store, prepare_creds, or a double fault right after the slab
# allocator's cmpxchg16b), twice with lymph.ko never loaded (--aa, "Not
# tainted").
vm_emulator_fault() {
	local v
	for v in $(tr -d '\r' < "$1/console.log" 2>/dev/null | sed -n 's/.*EFLAGS: \([0-9a-f]\{1,8\}\).*/\1/p'); do
		(( 0x$v & 0xffc00000 )) && return 0
	done
	return 1
}

# vm_run KERNEL INITRAMFS OUT BENCH TRIES SED: boot; print the guest's
# commentary as '#' lines and its figure lines through sed -e SED (the
# accel in their names); succeed when the guest's bench (the init's
# "exit BENCH 0") printed figures.  A boot the emulator killed
# (vm_emulator_fault) is booted again, up to TRIES boots in all.  Uses
# accel (default TCG; KVM when scripts/vm/boot used it).
vm_run() {
	local kernel=$1 initrd=$2 out=$3 bench=$4 tries=$5 sedx=$6 try start qrc
	for try in $(seq 1 "$tries"); do
		start=$(date +%s)
		"$vm_top/scripts/vm/boot" "$kernel" "$initrd" "$out"
		qrc=$?
		! vm_kvm || accel=KVM
		echo "# $vm_name: $kver in the VM ($accel), qemu exit $qrc after $(( $(date +%s) - start )) s; logs in $out"

		tr -d '\r' < "$out/tests.log" > "$out/tests.txt"
		grep -v '^figure' "$out/tests.txt" | sed 's/^\([^#]\)/# \1/'
		grep '^figure' "$out/tests.txt" | sed -e "$sedx"
		grep -q "^lymph-vm: exit $bench 0\$" "$out/tests.txt" && grep -q '^figure' "$out/tests.txt" && return 0
		grep -E 'Kernel panic|BUG:|Oops|WARNING:' -A20 "$out/console.log" 2>/dev/null | head -n 40 | sed 's/^/# console: /' >&2
		tail -n 10 "$out/console.log" 2>/dev/null | tr -d '\r' | sed 's/^/# console: /' >&2
		vm_emulator_fault "$out" || break
		cp "$out/console.log" "$out/console-emulator-fault-$try.log"
		echo "# $vm_name: run $try of $tries died of an emulator fault (EFLAGS with reserved bits set; console in $out/console-emulator-fault-$try.log)" >&2
		[ "$try" -lt "$tries" ] && echo "# $vm_name: running again" >&2
	done
	vm_die "no figures from the guest (qemu exit $qrc)"
}
