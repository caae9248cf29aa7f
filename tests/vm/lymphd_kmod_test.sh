#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# In the guest, with lymphd --source=kmod attached to /dev/lymph:
#  1. a process that dies by SIGSEGV reaches lymphd's JSON output as a
#     kmod death (lymphd drains /dev/lymph);
#  2. rmmod while lymphd runs is refused at once (the open device pins the
#     module) and lymphd keeps running; once lymphd has stopped, rmmod works.
# Skips until lymphd is built with a kmod source.  KTAP, Totals last.
. /lib/lymph-test/ktap.sh
dir=/tmp/lymphd-kmod
ktap_plan lymphd_drains_dev_lymph rmmod_with_lymphd_attached
[ -n "$build" ] && [ -x "$build/lymphd" ] || skip_all "lymphd is not in the VM (not built)"
"$build/lymphd" --help 2>&1 | grep -q kmod || skip_all "lymphd has no --source=kmod yet"
rmmod lymph 2>/dev/null
insmod /lib/modules/lymph.ko || skip_all "insmod failed"
mkdir -p $dir
"$build/lymphd" --source=kmod --json --dry-run --journal=$dir/journal \
	--socket=$dir/sock >$dir/out 2>$dir/err &
lymphd=$!
i=0
while ! grep -q '^readers: 1$' /proc/lymph && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.1
done
sh -c 'kill -SEGV $$' 2>/dev/null
sleep 2
grep '"event":"death"' $dir/out | grep '"source":"kmod"' | grep -q '"signo":11'
check 1 lymphd_drains_dev_lymph $? "no kmod death by SIGSEGV in lymphd's output"

# .owner: the open device pins the module; rmmod fails at once, never waits
timeout 10 rmmod lymph 2>/dev/null
rc=$?
grep -q '^lymph ' /proc/modules && [ $rc != 0 ] && [ $rc != 124 ] && kill -0 $lymphd 2>/dev/null
refused=$?
kill $lymphd 2>/dev/null
wait $lymphd
rmmod lymph 2>/dev/null
! grep -q '^lymph ' /proc/modules
gone=$?
[ $refused = 0 ] && [ $gone = 0 ]
check 2 rmmod_with_lymphd_attached $? "rmmod with lymphd attached: exit $rc (want a refusal at once), module gone after lymphd stopped: $gone"
[ $fail = 0 ] || sed 's/^/# /' $dir/err | tail -n 20
rmmod lymph 2>/dev/null
ktap_totals
