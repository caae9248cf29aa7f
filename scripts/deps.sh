#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install everything lymph needs to build and test, from Debian packages.
# Idempotent and quiet when all is present: it only calls apt-get for
# packages that are missing.  Then extract the kselftest harness headers
# from Debian's linux-source-6.12 into a cache outside the repository
# (they are not shipped on their own, and the project never commits them).
#
#   scripts/deps.sh            build + host test dependencies
#   scripts/deps.sh --vm       also the kernel, headers and qemu for the VM tests
#   scripts/deps.sh --plan     print what would be done, change nothing
#   scripts/deps.sh --print-kselftest-dir
#                              print the kselftest include directory last
#
# Every failure says what failed and what to do; nothing ends silently
# (a test runs this script as a fresh machine would, with --plan).
#
# Environment: LYMPH_CACHE (default /var/cache/lymph), LYMPH_SRC
# (where Debian puts kernel sources and headers, default /usr/src),
# LYMPH_APT_LOG (default /tmp/lymph-apt.log).
set -euo pipefail
shopt -s nullglob

LYMPH_CACHE=${LYMPH_CACHE:-/var/cache/lymph}
LYMPH_SRC=${LYMPH_SRC:-/usr/src}
APT_LOG=${LYMPH_APT_LOG:-/tmp/lymph-apt.log}
KSFT_DIR="$LYMPH_CACHE/kselftest"

ARGS="$*"
# die MESSAGE: the failure and what to do.  Status 3 tells the ERR trap
# (in a caller of a $(subshell) that died) that it was already said.
die() {
	echo "deps.sh: $*" >&2
	exit 3
}
# Any command that fails without its own message still names itself.
# shellcheck disable=SC2317  # called from the ERR trap
on_err() {
	local rc=$1 line=$2 cmd=$3
	[ "$rc" -eq 3 ] ||
		echo "deps.sh: line $line: \"$cmd\" failed (status $rc); rerun with \"bash -x scripts/deps.sh $ARGS\" to see why" >&2
	exit "$rc"
}
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

want_vm=0
print_ksft=0
plan=0
for a in "$@"; do
	case "$a" in
	--vm) want_vm=1 ;;
	--plan) plan=1 ;;
	--print-kselftest-dir) print_ksft=1 ;;
	-h | --help)
		sed -n '3,21s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	*)
		echo "deps.sh: unknown option '$a' (use --vm, --plan or --print-kselftest-dir)" >&2
		exit 2
		;;
	esac
done

build_pkgs=(make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
	libmnl-dev libcap-dev libjson-c-dev nettle-dev pkg-config dwarves linux-source-6.12 xz-utils autoconf
	util-linux procps prometheus curl shellcheck libclang-rt-14-dev strace
	dpkg-dev debhelper dh-dkms dkms lintian fakeroot systemd
	libnats-dev libssl-dev nats-server
	nginx-light redis-server redis-tools s6 supervisor)
# (zlib1g-dev: libelf's, and the gzip of lymphd --core-handler's stored cores;
# autoconf: a real ./configure in the throttle test's benign suite;
# strace: its fault injection kills lymphd inside a journal window in
# quarantine_test and throttle_test, which fail without it)
# (libclang-rt-14-dev: libFuzzer for the fuzz targets of tests/fuzz/; the
# line before the last: make install's and the packages' tests:
# dpkg-buildpackage, lintian, dkms, and systemd-analyze to verify the unit;
# the fleet's NATS client library and, for its tests, the server; the last:
# real services the supervision tests and bench/restart run)
# linux-headers-amd64 is Debian 12's own 6.1 kernel: the module must build
# against it too.
vm_pkgs=(qemu-system-x86 busybox-static cpio kmod linux-headers-amd64 sparse)

# say WHAT: one line of the plan (--plan) or of progress (to stderr).
say() {
	if [ "$plan" = 1 ]; then
		echo "plan: $*"
	else
		echo "deps.sh: $*" >&2
	fi
}

installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing() {
	local p
	for p in "$@"; do
		installed "$p" || printf '%s\n' "$p"
	done
}

apt_updated=0
apt_update() {
	[ "$apt_updated" = 0 ] || return 0
	apt_updated=1
	if [ "$plan" = 1 ]; then
		say "apt-get update"
		return 0
	fi
	need_root "refresh the package lists"
	say "apt-get update (log: $APT_LOG)"
	apt-get update -q >>"$APT_LOG" 2>&1 ||
		die "apt-get update failed: see $APT_LOG; check /etc/apt/sources.list and the network to Debian's mirror"
}

need_root() {
	[ "$(id -u)" -eq 0 ] ||
		die "need root to $1: run as root (sudo scripts/deps.sh $ARGS), or scripts/deps.sh --plan to see what is missing"
}

apt_install() {
	[ $# -gt 0 ] || return 0
	if [ "$plan" = 1 ]; then
		say "apt-get install $*"
		return 0
	fi
	need_root "install $*"
	say "installing $* (log: $APT_LOG)"
	export DEBIAN_FRONTEND=noninteractive
	: >"$APT_LOG"
	if ! apt-get install -y -q --no-install-recommends "$@" >>"$APT_LOG" 2>&1; then
		apt_update
		apt-get install -y -q --no-install-recommends "$@" >>"$APT_LOG" 2>&1 ||
			die "apt-get install $* failed: see $APT_LOG (last lines: $(tail -n 3 "$APT_LOG" | tr '\n' ' '))"
	fi
	local still
	still=$(missing "$@" | tr '\n' ' ')
	[ -z "$still" ] || die "apt-get reported success but $still is still not installed: see $APT_LOG"
}

# The newest 6.12 cloud kernel version for which Debian has both the
# headers and the image, or nothing.
cloud_kernel_in_apt() {
	local v versions
	# Not a pipeline: under pipefail a pipe whose first command fails ends
	# the script with no message (the bug a fresh machine found).
	local names
	names=$(apt-cache pkgnames linux-headers-6.12. 2>/dev/null || true)
	mapfile -t versions < <(sed -n 's/^linux-headers-\(6\.12\..*\)-cloud-amd64$/\1/p' <<<"$names" | sort -V -r)
	for v in "${versions[@]}"; do
		if apt-cache show "linux-image-$v-cloud-amd64-unsigned" >/dev/null 2>&1; then
			echo "$v"
			return 0
		fi
	done
	return 0
}

# The 6.12 cloud kernel the VM tests boot: the one whose headers are
# already installed, else the newest Debian offers.
vm_kernel_pkgs() {
	local dirs=("$LYMPH_SRC"/linux-headers-6.12.*-cloud-amd64) v
	if [ ${#dirs[@]} -gt 0 ]; then
		v=$(printf '%s\n' "${dirs[@]}" | sort -V | tail -n 1)
		v=${v#"$LYMPH_SRC"/linux-headers-}
		echo "linux-headers-$v linux-image-$v-unsigned"
		return 0
	fi
	v=$(cloud_kernel_in_apt)
	if [ -z "$v" ]; then
		apt_update
		[ "$plan" = 1 ] && {
			echo "linux-headers-6.12.N-cloud-amd64 linux-image-6.12.N-cloud-amd64-unsigned"
			return 0
		}
		v=$(cloud_kernel_in_apt)
	fi
	[ -n "$v" ] ||
		die "Debian's package lists name no linux-headers-6.12.*-cloud-amd64 with a matching linux-image-*-unsigned: add bookworm-backports or bookworm-updates to /etc/apt/sources.list and run apt-get update"
	echo "linux-headers-$v-cloud-amd64 linux-image-$v-cloud-amd64-unsigned"
}

pkgs=("${build_pkgs[@]}")
if [ "$want_vm" = 1 ]; then
	pkgs+=("${vm_pkgs[@]}")
	kernel_pkgs=$(vm_kernel_pkgs)
	read -r -a kpkgs <<<"$kernel_pkgs"
	pkgs+=("${kpkgs[@]}")
fi
mapfile -t need < <(missing "${pkgs[@]}")
apt_install "${need[@]}"

# kselftest harness headers, from the kernel source tarball.
if [ ! -f "$KSFT_DIR/kselftest_harness.h" ] || [ ! -f "$KSFT_DIR/kselftest.h" ]; then
	tarballs=("$LYMPH_SRC"/linux-source-6.12*.tar.xz)
	if [ "$plan" = 1 ]; then
		say "extract kselftest_harness.h and kselftest.h from ${tarballs[0]:-$LYMPH_SRC/linux-source-6.12.tar.xz (after installing linux-source-6.12)} into $KSFT_DIR"
	else
		[ ${#tarballs[@]} -gt 0 ] ||
			die "no $LYMPH_SRC/linux-source-6.12*.tar.xz although linux-source-6.12 is installed: reinstall it (apt-get install --reinstall linux-source-6.12)"
		tmp=$(mktemp -d)
		trap 'rm -rf "$tmp"' EXIT
		say "extracting the kselftest harness from ${tarballs[0]} into $KSFT_DIR"
		tar -C "$tmp" -xJf "${tarballs[0]}" --wildcards \
			'*/tools/testing/selftests/kselftest_harness.h' \
			'*/tools/testing/selftests/kselftest.h' ||
			die "could not extract the kselftest headers from ${tarballs[0]}: reinstall linux-source-6.12"
		mkdir -p "$KSFT_DIR" || die "cannot create $KSFT_DIR: set LYMPH_CACHE to a writable directory"
		find "$tmp" -name 'kselftest*.h' -exec cp {} "$KSFT_DIR/" \;
		[ -f "$KSFT_DIR/kselftest_harness.h" ] || die "kselftest_harness.h not in ${tarballs[0]}"
	fi
fi
[ "$plan" = 1 ] && [ ${#need[@]} -eq 0 ] && [ -f "$KSFT_DIR/kselftest_harness.h" ] && say "nothing to do"
[ "$print_ksft" = 1 ] && echo "$KSFT_DIR"
exit 0
