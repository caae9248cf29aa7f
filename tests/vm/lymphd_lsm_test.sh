#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# In the guest, whose kernel runs the BPF LSM (Debian's CONFIG_LSM has
# "bpf"), lymphd on the BPF sensors in enforce mode:
#  1. enforces quarantine with the BPF LSM (lymphctl status says bpf-lsm);
#  2. a binary that crashes twice for root ([quarantine] root = yes) is then
#     refused exec for root in the kernel (bprm_check_security), with EPERM;
#  3. the dynamic loader run on it is refused too (file_open of a runner,
#     and mmap_file with PROT_EXEC behind it): `ld-linux-x86-64.so.2 FILE`;
#  4. lymphctl release lets it run again;
#  5. a script that crashes its interpreter (busybox sh, `sh crash.sh`) is
#     charged to the script: the script is refused, through the interpreter
#     and by its #! line, and sh itself still runs.
# The crasher is a copy of busybox (another inode, same name), so nothing the VM
# needs is ever quarantined.  KTAP, Totals last.
. /lib/lymph-test/ktap.sh
dir=/tmp/lymphd-lsm
ld=/lib64/ld-linux-x86-64.so.2
ktap_plan enforcement_is_bpf_lsm quarantined_exec_refused loader_refused \
	release_lets_it_run script_charged_not_interpreter
# Wait until the journal has a record matching the pattern (5 s at most).
wait_journal() {
	i=0
	until grep -q "$1" $dir/journal 2>/dev/null || [ $i -ge 50 ]; do
		i=$((i + 1))
		sleep 0.1
	done
}
[ -n "$build" ] && [ -x "$build/lymphd" ] && [ -x "$build/lymphctl" ] ||
	skip_all "lymphd is not in the VM (not built)"
grep -q bpf /sys/kernel/security/lsm 2>/dev/null || mount -t securityfs securityfs /sys/kernel/security
grep -q bpf /sys/kernel/security/lsm || skip_all "this kernel does not run the BPF LSM"
mkdir -p $dir && chmod 0700 $dir
cp /bin/busybox $dir/busybox	# busybox picks the applet from argv[0]: keep the name
cat >$dir/lymph.conf <<CONF
[lymphd]
mode = enforce
[quarantine]
threshold = 2
duration_min = 60s
duration_max = 60s
root = yes
CONF
"$build/lymphd" -c $dir/lymph.conf --source=bpf --quiet --journal=$dir/journal \
	--socket=$dir/sock >$dir/out 2>$dir/err &
lymphd=$!
i=0
until "$build/lymphctl" --socket=$dir/sock status --json >$dir/status 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] || { sed 's/^/# /' $dir/err; kill $lymphd; skip_all "lymphd did not start"; }
	sleep 0.1
done
grep -q '"enforcement":"bpf-lsm"' $dir/status
check 1 enforcement_is_bpf_lsm $? "lymphctl status: $(grep -o '"enforcement":"[^"]*"' $dir/status) $(grep -o '"not_used":"[^"]*"' $dir/status)"

# Two crashes (self-raised SIGSEGV is danger), then exec must fail.
$dir/busybox sh -c 'kill -SEGV $$' 2>/dev/null
$dir/busybox sh -c 'kill -SEGV $$' 2>/dev/null
wait_journal '"action":"quarantine".*"exe":"/tmp/lymphd-lsm/busybox"'
$dir/busybox true 2>$dir/exec.err
rc=$?
grep -qi "not permitted" $dir/exec.err
check 2 quarantined_exec_refused $? "exec exit $rc: $(cat $dir/exec.err)"

# The loader opens and maps the file instead of exec'ing it.
if [ -x $ld ]; then
	$ld $dir/busybox true 2>$dir/ld.err
	rc=$?
	[ $rc != 0 ] && grep -qi "not permitted" $dir/ld.err
	check 3 loader_refused $? "$ld on the quarantined file: exit $rc: $(cat $dir/ld.err)"
else
	echo "ok 3 loader_refused # SKIP no $ld in the guest"
fi

"$build/lymphctl" --socket=$dir/sock release $dir/busybox >/dev/null 2>&1
$dir/busybox true
check 4 release_lets_it_run $? "still refused after lymphctl release"

# A crash under the interpreter is the script's.
printf '#!/bin/sh\nkill -SEGV $$\n' >$dir/crash.sh
chmod 0755 $dir/crash.sh
(cd $dir && sh crash.sh) 2>/dev/null
(cd $dir && sh crash.sh) 2>/dev/null
wait_journal '"action":"quarantine".*"exe":"/tmp/lymphd-lsm/crash.sh"'
ok=0 why=""
grep -q '"action":"quarantine".*"exe":"/tmp/lymphd-lsm/crash.sh"' $dir/journal ||
	{ ok=1; why="no quarantine of the script;"; }
grep '"action":"quarantine"' $dir/journal | grep -q '"exe":"/bin/busybox"' &&
	{ ok=1; why="$why the interpreter was quarantined;"; }
sh -c 'exit 7'
[ $? = 7 ] || { ok=1; why="$why sh no longer runs;"; }
(cd $dir && sh crash.sh) 2>$dir/sh.err
rc=$?
[ $rc != 139 ] && [ $rc != 0 ] || { ok=1; why="$why sh crash.sh ran (exit $rc);"; }
$dir/crash.sh 2>$dir/shebang.err
rc=$?
grep -qi "not permitted" $dir/shebang.err || { ok=1; why="$why ./crash.sh ran (exit $rc);"; }
check 5 script_charged_not_interpreter $ok "$why $(cat $dir/sh.err $dir/shebang.err)"

kill $lymphd
wait $lymphd
[ $fail = 0 ] || { sed 's/^/# /' $dir/err | tail -n 20; sed 's/^/# journal: /' $dir/journal | grep quarantine | tail -n 8; }
ktap_totals
