#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# In the guest: lymphd --source=kmod drains /dev/lymph, and a process that
# dies by SIGSEGV reaches lymphd's JSON output as a kmod death.  Skips
# until lymphd is built with a kmod source.  KTAP output, Totals last.
build=$(sed -n 's/.*lymph\.build=\([^ ]*\).*/\1/p' /proc/cmdline)
dir=/tmp/lymphd-kmod
echo "TAP version 13"
echo "1..1"
result() {	# result ok|not ok|skip, reason
	case "$1" in
	ok)	echo "ok 1 lymphd_drains_dev_lymph"
		echo "# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0" ;;
	skip)	echo "ok 1 lymphd_drains_dev_lymph # SKIP $2"
		echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0" ;;
	*)	echo "not ok 1 lymphd_drains_dev_lymph # $2"
		echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0" ;;
	esac
	exit 0
}
[ -n "$build" ] && [ -x "$build/lymphd" ] || result skip "lymphd is not in the VM (not built)"
"$build/lymphd" --help 2>&1 | grep -q kmod || result skip "lymphd has no --source=kmod yet"
rmmod lymph 2>/dev/null
insmod /lib/modules/lymph.ko || result fail "insmod failed"
mkdir -p $dir
"$build/lymphd" --source=kmod --json --dry-run --journal=$dir/journal \
	--socket=$dir/sock >$dir/out 2>$dir/err &
lymphd=$!
i=0
until grep -q '^readers: 1$' /proc/lymph; do
	i=$((i + 1))
	[ $i -lt 100 ] || { sed 's/^/# /' $dir/err; kill $lymphd; rmmod lymph; result fail "lymphd never opened /dev/lymph"; }
	sleep 0.1
done
sh -c 'kill -SEGV $$'
sleep 2
kill $lymphd
wait $lymphd
rmmod lymph
if grep '"event":"death"' $dir/out | grep '"source":"kmod"' | grep -q '"signo":11'; then
	result ok
fi
sed 's/^/# /' $dir/out $dir/err | tail -n 20
result fail "no kmod death by SIGSEGV in lymphd's output"
