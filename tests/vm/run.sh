#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Host side of the lymph.ko VM tests: build the module for the VM's kernel,
# the static in-guest tests and an initramfs, boot Debian's 6.12 cloud
# kernel in qemu, and print the guest's kselftest output on stdout.
#
#   tests/vm/run.sh [BUILD_DIR]
#
# Environment: LYMPH_VM_ONLY (see step 2), LYMPH_VM_HOST_TESTS (see step 3), LYMPH_VM_TIMEOUT and the
# others of scripts/vm/boot; LYMPH_VM_TEST_ARGS: arguments for every in-guest
# test binary (the harness's "-t NAME" runs only the test NAME; no commas).
#
# Contract with tests/run.sh: every "# Totals: ..." line printed here is
# summed.  When the guest panics, hangs or never writes its verdict, one
# extra failing Totals line says why; when qemu or the kernel image is
# missing, a skipping one does (a skip is never a pass).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
out="$build/vm"
ksft=${KSFT_DIR:-${LYMPH_CACHE:-/var/cache/lymph}/kselftest}

totals() { echo "# Totals: pass:0 fail:$1 xfail:0 xpass:0 skip:$2 error:0"; }
skip() { echo "# SKIP lymph.ko VM tests: $*"; totals 0 1; exit 0; }
fail() { echo "# FAIL lymph.ko VM tests: $*"; totals 1 0; exit 1; }

. "$top/scripts/vm/lib.sh" tests/vm/run.sh
kernel="" kver="" kdir=""
vm_kernel skip
[ -f "$ksft/kselftest_harness.h" ] || skip "no kselftest harness in $ksft (scripts/deps.sh)"

mkdir -p "$out"
build_failed=0
# 1. The module, for exactly the kernel that boots, and the 6.1 build check:
#    both must be free of warnings (kmod.mk makes them errors).
if ! make -s -C "$top" --no-print-directory kmod KDIR="$kdir" BUILD="$build" >"$out/kmod-build.log" 2>&1; then
	sed 's/^/# /' "$out/kmod-build.log" | tail -n 40
	fail "lymph.ko does not build against $kdir"
fi
echo "# lymph.ko build checks"
echo "ok 1 lymph.ko builds warning-free against $kdir"
kdir61=$(ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null | sort -V | tail -n1)
if [ -z "$kdir61" ]; then
	echo "ok 2 # SKIP no Debian 12 6.1 headers (scripts/deps.sh --vm)"
	echo "# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:1 error:0"
elif make -s -C "$top" --no-print-directory kmod-6.1 KDIR_6_1="$kdir61" BUILD="$build" >"$out/kmod-6.1.log" 2>&1; then
	echo "ok 2 lymph.ko builds warning-free against $kdir61"
	echo "# Totals: pass:2 fail:0 xfail:0 xpass:0 skip:0 error:0"
else
	sed 's/^/# /' "$out/kmod-6.1.log" | tail -n 40
	echo "not ok 2 lymph.ko does not build warning-free against $kdir61"
	build_failed=1
	echo "# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:0 error:0"
fi

# 2. The in-guest tests, static: the guest has no libc.  LYMPH_VM_ONLY
#    ("name_test ...", without .c/.sh) runs only those, for quick work on one.
only=" ${LYMPH_VM_ONLY:-} "
wanted() {
	local n=${1##*/}
	[ -z "${LYMPH_VM_ONLY:-}" ] || [[ $only == *" ${n%.*} "* ]]
}
tests=()
for src in "$here"/*_test.c; do
	wanted "$src" || continue
	bin="$out/$(basename "$src" .c)"
	if ! gcc -static -O2 -g -Wall -Werror -Wno-sign-compare -std=gnu11 \
		-I"$ksft" -I"$top/include" "$src" -lpthread -o "$bin" >"$out/cc.log" 2>&1; then
		sed 's/^/# /' "$out/cc.log" | tail -n 40
		fail "$(basename "$src") does not compile"
	fi
	tests+=("$bin")
done
for sh in "$here"/*_test.sh; do	# guest shell tests (busybox sh)
	wanted "$sh" && tests+=("$sh")
done
# What they source (. /lib/lymph-test/ktap.sh): in the guest, not run.
export LYMPH_VM_TEST_LIBS="$here/ktap.sh"

# 3. Host-built tests to run in the guest too (the BPF side needs a kernel
#    with BTF and the BPF LSM): LYMPH_VM_HOST_TESTS="crash_signals_test ...",
#    names in BUILD/tests.  They go in at their host path, with lymphd,
#    lymphctl and their shared libraries, so they find lymphd as on the host.
#    Unset: the BPF crash tests when they are built; empty: none.
host_bins=() host_tests=()
if [ -z "${LYMPH_VM_HOST_TESTS+set}" ]; then
	LYMPH_VM_HOST_TESTS=""
	[ -x "$build/tests/crash_signals_test" ] && LYMPH_VM_HOST_TESTS=crash_signals_test
fi
for t in $LYMPH_VM_HOST_TESTS; do
	[ -x "$build/tests/$t" ] || fail "LYMPH_VM_HOST_TESTS: no $build/tests/$t (make tests)"
	host_bins+=("$build/tests/$t")
	host_tests+=("$build/tests/$t")
done
for p in lymphd lymphctl; do
	[ -x "$build/$p" ] && host_bins+=("$build/$p")
done
export LYMPH_VM_HOST_BINS="${host_bins[*]}"
export LYMPH_VM_APPEND="${LYMPH_VM_APPEND:-} lymph.build=$build"
if [ -n "${LYMPH_VM_TEST_ARGS:-}" ]; then
	LYMPH_VM_APPEND="$LYMPH_VM_APPEND lymph.test_args=${LYMPH_VM_TEST_ARGS// /,}"
fi
if [ ${#host_tests[@]} -gt 0 ]; then
	LYMPH_VM_APPEND="$LYMPH_VM_APPEND lymph.host_tests=$(IFS=,; echo "${host_tests[*]}")"
fi

# 4. The initramfs and the boot.
if ! "$top/scripts/vm/mkinitramfs" "$out/initramfs.cpio.gz" "$here/init" \
	"$build/kmod/lymph.ko" "${tests[@]}" >"$out/mkinitramfs.log" 2>&1; then
	sed 's/^/# /' "$out/mkinitramfs.log"
	fail "cannot build the initramfs"
fi
start=$(date +%s)
"$top/scripts/vm/boot" "$kernel" "$out/initramfs.cpio.gz" "$out"
qrc=$?
echo "# lymph.ko VM: $kver, qemu exit $qrc after $(( $(date +%s) - start )) s; logs in $out"

# 5. The verdict, from ttyS1 only.
tr -d '\r' < "$out/tests.log" > "$out/tests.txt"
grep -v '^lymph-vm: ' "$out/tests.txt"
grep '^lymph-vm: exit ' "$out/tests.txt" | sed 's/^/# /'
# A binary that could not run (126, 127) or was killed (128+) printed no
# Totals of its own: it counts as a failure here, never as nothing.
lost=0
while read -r _ _ name code; do
	if [ "$code" -ge 126 ] 2>/dev/null; then
		echo "# FAIL $name did not run to its end in the guest (exit $code)"
		echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0"
		lost=1
	fi
done < <(grep '^lymph-vm: exit ' "$out/tests.txt")
[ "$lost" = 0 ] || build_failed=1
if grep -q '^lymph-vm: verdict done' "$out/tests.txt"; then
	if grep -q '^lymph-vm: exit .* [1-9][0-9]*$' "$out/tests.txt" &&
	   ! grep -q '^# Totals: ' "$out/tests.txt"; then
		fail "a test binary failed without a Totals line"
	fi
	# Exit status for make vm-test: non-zero when any guest test failed.
	! grep -Eq '^# Totals: pass:[0-9]+ fail:([1-9]|[0-9]+ .* error:[1-9])' "$out/tests.txt" &&
		[ "$build_failed" = 0 ]
	exit
fi
reason="no verdict from the guest"
[ "$qrc" = 124 ] || [ "$qrc" = 137 ] && reason="the VM timed out (${LYMPH_VM_TIMEOUT:-900} s)"
grep -q 'Kernel panic' "$out/console.log" && reason="the guest kernel panicked"
grep -E 'Kernel panic|BUG:|Oops|WARNING:|Call Trace' -A20 "$out/console.log" | head -n 60 | sed 's/^/# console: /'
tail -n 20 "$out/console.log" | tr -d '\r' | sed 's/^/# console: /'
fail "$reason"
