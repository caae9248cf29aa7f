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
#
# Prints the kselftest include directory on its last line when asked with
# --print-kselftest-dir.
set -euo pipefail

LYMPH_CACHE=${LYMPH_CACHE:-/var/cache/lymph}
KSFT_DIR="$LYMPH_CACHE/kselftest"

want_vm=0
print_ksft=0
for a in "$@"; do
	case "$a" in
	--vm) want_vm=1 ;;
	--print-kselftest-dir) print_ksft=1 ;;
	*) echo "deps.sh: unknown option '$a' (use --vm or --print-kselftest-dir)" >&2; exit 2 ;;
	esac
done

build_pkgs=(make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
	libmnl-dev libcap-dev libjson-c-dev pkg-config dwarves linux-source-6.12 xz-utils
	util-linux procps prometheus curl)
vm_pkgs=(qemu-system-x86 busybox-static cpio kmod linux-headers-amd64)

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			printf '%s\n' "$p"
	done
}

apt_install() {
	[ $# -gt 0 ] || return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: missing packages: $*; run as root (sudo scripts/deps.sh) to install them" >&2
		exit 1
	fi
	echo "deps.sh: installing $*" >&2
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q --no-install-recommends "$@" >/tmp/lymph-apt.log 2>&1; then
		apt-get update -q >/tmp/lymph-apt.log 2>&1 || true
		apt-get install -y -q --no-install-recommends "$@" >>/tmp/lymph-apt.log 2>&1 || {
			echo "deps.sh: apt-get install failed, see /tmp/lymph-apt.log" >&2
			exit 1
		}
	fi
}

# The VM tests boot Debian's 6.12 cloud kernel: take the newest version for
# which both the image and the headers are available.
kvm_version() {
	apt-cache pkgnames linux-headers-6.12. 2>/dev/null |
		sed -n 's/^linux-headers-\(6\.12\..*\)-cloud-amd64$/\1/p' | sort -V -r |
		while read -r v; do
			if apt-cache show "linux-image-$v-cloud-amd64-unsigned" >/dev/null 2>&1; then
				echo "$v"
				break
			fi
		done
}

pkgs=("${build_pkgs[@]}")
if [ "$want_vm" = 1 ]; then
	pkgs+=("${vm_pkgs[@]}")
	v=$(ls -d /usr/src/linux-headers-6.12.*-cloud-amd64 2>/dev/null | sort -V | tail -n1)
	if [ -z "$v" ]; then
		v=$(kvm_version)
		[ -n "$v" ] || { echo "deps.sh: no linux-headers-6.12.*-cloud-amd64 in apt; run apt-get update" >&2; exit 1; }
		pkgs+=("linux-headers-$v-cloud-amd64" "linux-image-$v-cloud-amd64-unsigned")
	else
		v=${v#/usr/src/linux-headers-}
		pkgs+=("linux-image-$v-unsigned")
	fi
fi
mapfile -t need < <(missing "${pkgs[@]}")
apt_install "${need[@]}"

# kselftest harness headers, from the kernel source tarball.
if [ ! -f "$KSFT_DIR/kselftest_harness.h" ] || [ ! -f "$KSFT_DIR/kselftest.h" ]; then
	tarball=$(ls /usr/src/linux-source-6.12*.tar.xz 2>/dev/null | head -n1)
	[ -n "$tarball" ] || { echo "deps.sh: /usr/src/linux-source-6.12*.tar.xz not found; reinstall linux-source-6.12" >&2; exit 1; }
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	tar -C "$tmp" -xJf "$tarball" --wildcards \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h'
	mkdir -p "$KSFT_DIR"
	find "$tmp" -name 'kselftest*.h' -exec cp {} "$KSFT_DIR/" \;
	[ -f "$KSFT_DIR/kselftest_harness.h" ] || { echo "deps.sh: kselftest_harness.h not in $tarball" >&2; exit 1; }
fi
[ "$print_ksft" = 1 ] && echo "$KSFT_DIR"
exit 0
