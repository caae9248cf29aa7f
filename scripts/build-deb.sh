#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the Debian packages lymph and lymph-dkms with
# `dpkg-buildpackage -us -uc -b` from a copy of the tree in a scratch
# directory (dpkg-buildpackage writes into the parent of the tree it builds,
# and its debian/ and build/ work would land in the repository), then check
# them with lintian.
#
#   scripts/build-deb.sh OUTDIR [--reuse]
#
# OUTDIR receives the .deb, .buildinfo and .changes files, build.log,
# lintian.txt and source.sha256 (a digest of the sources built).  With
# --reuse, a build in OUTDIR of the same sources is kept as it is.
# Exit status: 0 when the packages were built (or reused) and lintian found
# no error; 1 otherwise, with one line that says what failed and where the
# log is.
set -euo pipefail

die() {
	echo "build-deb.sh: $*" >&2
	exit 1
}

if [ $# -lt 1 ] || [ -z "$1" ]; then
	die "usage: scripts/build-deb.sh OUTDIR [--reuse]"
fi
out=$1
reuse=0
[ "${2:-}" = "--reuse" ] && reuse=1
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
case "$out/" in
"$top"/build/*) ;;
"$top"/*) die "OUTDIR $out is inside the tree: choose one outside $top, or under $top/build" ;;
esac
for tool in dpkg-buildpackage dh dh_dkms lintian fakeroot; do
	command -v "$tool" >/dev/null ||
		die "$tool is missing: run scripts/deps.sh (it installs dpkg-dev, debhelper, dh-dkms, lintian, fakeroot)"
done

# The sources: what git tracks plus new files not ignored; without git,
# everything but build/.
cd "$top"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -d '' files < <(git ls-files -z -c -o --exclude-standard)
else
	mapfile -d '' files < <(find . -path ./build -prune -o -type f -print0)
fi
existing=()
for f in "${files[@]}"; do
	[ -f "$f" ] && existing+=("$f")
done
sum=$(printf '%s\0' "${existing[@]}" | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
version=$(cat VERSION)

if [ "$reuse" = 1 ] && [ "$(cat "$out/source.sha256" 2>/dev/null)" = "$sum" ] &&
	[ -f "$out/lymph_${version}_amd64.deb" ] && [ -f "$out/lymph-dkms_${version}_all.deb" ]; then
	echo "build-deb.sh: reusing the packages in $out (same sources)"
	exit 0
fi

scratch=$(mktemp -d /tmp/lymph-deb.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/lymph-$version"
printf '%s\0' "${existing[@]}" | tar -C "$top" --null -T - -cf - | tar -C "$scratch/lymph-$version" -xf -
rm -f "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes "$out/source.sha256" "$out/lintian.txt"

echo "build-deb.sh: dpkg-buildpackage -us -uc -b in $scratch/lymph-$version (log: $out/build.log)"
if ! (cd "$scratch/lymph-$version" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -n 20 "$out/build.log" >&2
	die "dpkg-buildpackage failed: see $out/build.log"
fi
cp "$scratch"/*.deb "$scratch"/*.buildinfo "$scratch"/*.changes "$out/"

echo "build-deb.sh: lintian (report: $out/lintian.txt)"
lintian --fail-on error "$out"/*.changes >"$out/lintian.txt" 2>&1 || {
	cat "$out/lintian.txt" >&2
	die "lintian found errors in the packages: see $out/lintian.txt"
}
echo "$sum" >"$out/source.sha256"
ls "$out"/*.deb
