#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make install / make uninstall.  The Makefile passes every directory:
#
#   DESTDIR      staging root, absolute (empty: the running system)
#   SBINDIR      lymphd, lymphctl                  (PREFIX/sbin)
#   MANDIR       man5/lymph.conf.5, man8/*.8       (PREFIX/share/man)
#   UNITDIR      lymphd.service                    (PREFIX/lib/systemd/system)
#   DKMSDIR      lymph-VERSION/, the module source with dkms.conf (/usr/src)
#   BUILD        where make put lymphd and lymphctl
#   VERSION      from the VERSION file
#
# /etc/lymph/lymph.conf (the commented example, observe only) is installed
# only where there is none; an existing policy is never overwritten: the new
# example goes beside it as lymph.conf.example.  Uninstall removes the policy
# only if it is still the shipped example.
#
#   scripts/install.sh check       every destination writable? (changes nothing)
#   scripts/install.sh install
#   scripts/install.sh uninstall
#
# Every destination is checked before the first write: a DESTDIR that cannot
# be written gets one clear error and nothing is changed.
set -euo pipefail
shopt -s nullglob

die() {
	echo "install.sh: $*" >&2
	exit 1
}

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

: "${DESTDIR:=}" "${SBINDIR:=/usr/local/sbin}" "${MANDIR:=/usr/local/share/man}"
: "${UNITDIR:=/usr/local/lib/systemd/system}" "${DKMSDIR:=/usr/src}" "${BUILD:=build}"
: "${VERSION:=$(cat VERSION)}"
[ -n "$VERSION" ] || die "VERSION is empty: the VERSION file at the top of the tree names the version"
case "$DESTDIR" in
"" | /*) ;;
*) die "DESTDIR must be an absolute path, not '$DESTDIR'" ;;
esac
for v in SBINDIR MANDIR UNITDIR DKMSDIR; do
	case "${!v}" in
	/*) ;;
	*) die "$v must be an absolute path, not '${!v}'" ;;
	esac
done

etc="$DESTDIR/etc/lymph"
sbin="$DESTDIR$SBINDIR"
man="$DESTDIR$MANDIR"
unit="$DESTDIR$UNITDIR"
dkms="$DESTDIR$DKMSDIR/lymph-$VERSION"
example=doc/lymph.conf.example

# writable DIR: DIR, or its nearest existing ancestor, is a directory we may
# write (root on a read-only mount may not).  Prints why not.
writable() {
	local d=$1
	while [ ! -e "$d" ] && [ ! -L "$d" ]; do
		d=$(dirname "$d")
	done
	if [ ! -d "$d" ]; then
		echo "$d is not a directory"
		return 1
	fi
	if [ ! -w "$d" ]; then
		if findmnt -n -o OPTIONS -T "$d" 2>/dev/null | tr ',' '\n' | grep -qx ro; then
			echo "$d is on a read-only mount"
		else
			echo "$d is not writable by uid $(id -u)"
		fi
		return 1
	fi
}

check() {
	local d why
	for d in "$sbin" "$man/man5" "$man/man8" "$etc" "$unit" "$dkms"; do
		why=$(writable "$d") ||
			die "cannot install into $d: $why; choose a writable DESTDIR= (and PREFIX=), or run as root; nothing was changed"
	done
}

# put SRC DST MODE: install one file, creating its directory (mode 0755).
put() {
	install -d -m 0755 "$(dirname "$2")"
	install -m "$3" "$1" "$2"
	echo "  INSTALL  $2"
}

do_install() {
	local f
	for f in "$BUILD/lymphd" "$BUILD/lymphctl"; do
		[ -x "$f" ] || die "$f is missing: run make first"
	done
	check
	put "$BUILD/lymphd" "$sbin/lymphd" 0755
	put "$BUILD/lymphctl" "$sbin/lymphctl" 0755
	for f in doc/*.5; do put "$f" "$man/man5/$(basename "$f")" 0644; done
	for f in doc/*.8; do put "$f" "$man/man8/$(basename "$f")" 0644; done

	# The unit names the binaries where this install puts them.
	install -d -m 0755 "$unit"
	sed "s|/usr/sbin/|$SBINDIR/|g" systemd/lymphd.service >"$unit/lymphd.service.tmp"
	chmod 0644 "$unit/lymphd.service.tmp"
	mv -f "$unit/lymphd.service.tmp" "$unit/lymphd.service"
	echo "  INSTALL  $unit/lymphd.service"

	# The policy: lymphd refuses a directory writable by others (0755 root).
	install -d -m 0755 "$etc"
	if [ ! -e "$etc/lymph.conf" ]; then
		put "$example" "$etc/lymph.conf" 0644
	elif cmp -s "$example" "$etc/lymph.conf"; then
		echo "  KEEP     $etc/lymph.conf (the shipped example)"
	else
		put "$example" "$etc/lymph.conf.example" 0644
		echo "  KEEP     $etc/lymph.conf (yours; the new example is lymph.conf.example)"
	fi

	# The module source, as dkms wants it: /usr/src/lymph-VERSION/dkms.conf.
	grep -q "^PACKAGE_VERSION=\"$VERSION\"$" dkms.conf ||
		die "dkms.conf says $(grep '^PACKAGE_VERSION=' dkms.conf), VERSION says $VERSION: make them agree"
	rm -rf "$dkms"
	install -d -m 0755 "$dkms/kmod" "$dkms/include/lymph"
	install -m 0644 dkms.conf Kbuild VERSION "$dkms/"
	install -m 0644 kmod/*.c kmod/*.h "$dkms/kmod/"
	install -m 0644 include/lymph/*.h "$dkms/include/lymph/"
	echo "  INSTALL  $dkms/"
	if [ -z "$DESTDIR" ]; then
		if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
			systemctl daemon-reload || echo "install.sh: systemctl daemon-reload failed: run it by hand" >&2
		fi
		echo "lymph $VERSION installed.  Start it with: systemctl enable --now lymphd"
		echo "The kernel module (optional): dkms install lymph/$VERSION && modprobe lymph"
	fi
}

do_uninstall() {
	local f d why
	for d in "$sbin" "$man/man5" "$man/man8" "$etc" "$unit" "$(dirname "$dkms")"; do
		[ -e "$d" ] || continue
		why=$(writable "$d") ||
			die "cannot uninstall from $d: $why; nothing was changed"
	done
	if [ -z "$DESTDIR" ] && command -v dkms >/dev/null &&
		[ -n "$(dkms status -m lymph -v "$VERSION" 2>/dev/null)" ]; then
		echo "  DKMS     remove lymph/$VERSION"
		dkms remove -m lymph -v "$VERSION" --all
	fi
	for f in "$sbin/lymphd" "$sbin/lymphctl" "$unit/lymphd.service" "$etc/lymph.conf.example"; do
		[ -e "$f" ] && rm -f "$f" && echo "  REMOVE   $f"
	done
	for f in doc/*.5; do f="$man/man5/$(basename "$f")"; [ -e "$f" ] && rm -f "$f" && echo "  REMOVE   $f"; done
	for f in doc/*.8; do f="$man/man8/$(basename "$f")"; [ -e "$f" ] && rm -f "$f" && echo "  REMOVE   $f"; done
	if [ -e "$etc/lymph.conf" ]; then
		if cmp -s "$example" "$etc/lymph.conf"; then
			rm -f "$etc/lymph.conf" && echo "  REMOVE   $etc/lymph.conf"
		else
			echo "  KEEP     $etc/lymph.conf (changed since it was installed: your policy)"
		fi
	fi
	rmdir "$etc" 2>/dev/null || true
	[ -d "$dkms" ] && rm -rf "$dkms" && echo "  REMOVE   $dkms/"
	if [ -z "$DESTDIR" ]; then
		if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
			systemctl daemon-reload || echo "install.sh: systemctl daemon-reload failed: run it by hand" >&2
		fi
	fi
	return 0
}

case "${1:-}" in
check) check ;;
install) do_install ;;
uninstall) do_uninstall ;;
*) die "usage: scripts/install.sh check|install|uninstall (run by make install / make uninstall)" ;;
esac
