#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# In the guest (Debian's 6.12), lymphd on the BPF sensors with [throttle]
# in enforce mode, and a family with more than a quarter of its burst
# alive (60 sleeps, burst 100: within budget, nothing is held), so the
# probes ask lymphd to attach the refused-fork probe:
#  1. the sensors load with the probe's per-syscall programs (perf
#     tracepoint programs on syscalls:sys_exit_clone, ...): lymphd does
#     not say it loaded them without;
#  2. with the kernel's perf_event_paranoid as it is (Debian: 3, no perf
#     event without a capability) the probe gets attached: on the
#     per-syscall tracepoints (a perf event of lymphd's) where lymphd may
#     open one, else on raw_syscalls:sys_exit (one more BPF link), with
#     the reason on stderr;
#  3. with perf_event_paranoid 2, on the per-syscall tracepoints.
# Which one is printed.  KTAP, Totals last.
build=$(sed -n 's/.*lymph\.build=\([^ ]*\).*/\1/p' /proc/cmdline)
dir=/tmp/lymphd-refusals
pass=0 fail=0
echo "TAP version 13"
echo "1..3"
skip_all() {
	echo "ok 1 sensors_load_with_the_per_syscall_probe # SKIP $1"
	echo "ok 2 refused_fork_probe_attaches # SKIP $1"
	echo "ok 3 refused_fork_probe_per_syscall_at_paranoid_2 # SKIP $1"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:3 error:0"
	exit 0
}
check() {	# check N NAME CONDITION-STATUS [REASON]
	if [ "$3" = 0 ]; then
		echo "ok $1 $2"
		pass=$((pass + 1))
	else
		echo "not ok $1 $2 # $4"
		fail=$((fail + 1))
	fi
}
[ -n "$build" ] && [ -x "$build/lymphd" ] && [ -x "$build/lymphctl" ] ||
	skip_all "lymphd is not in the VM (not built)"
grep -q tracefs /proc/mounts || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mkdir -p $dir && chmod 0700 $dir
cat >$dir/lymph.conf <<CONF
[lymphd]
mode = enforce
[throttle]
budget = 50
burst = 100
CONF

# Start lymphd, make the crowd, say in $how how the probe got attached
# (per-syscall, raw or nothing); lymphd's stderr in $dir/err.
run_case() {
	"$build/lymphd" -c $dir/lymph.conf --source=bpf --quiet --journal=$dir/journal \
		--socket=$dir/sock >$dir/out 2>$dir/err &
	lymphd=$!
	i=0
	until "$build/lymphctl" --socket=$dir/sock status --json >$dir/status 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 300 ] || { sed 's/^/# /' $dir/err; kill $lymphd; skip_all "lymphd did not start"; }
		sleep 0.1
	done
	links0=$(ls -l /proc/$lymphd/fd 2>/dev/null | grep -c 'bpf_link')
	# Not from this shell: lymphd's ancestors are never charged.
	sh -c 'i=0; while [ $i -lt 60 ]; do sleep 8 & i=$((i + 1)); done; wait' &
	crowd=$!
	how="" i=0
	while [ -z "$how" ] && [ $i -lt 100 ]; do
		fds=$(ls -l /proc/$lymphd/fd 2>/dev/null)
		if echo "$fds" | grep -q 'perf_event'; then
			how=per-syscall
		elif [ "$(echo "$fds" | grep -c 'bpf_link')" -gt "$links0" ]; then
			how=raw
		fi
		i=$((i + 1))
		sleep 0.05
	done
	wait $crowd
	kill $lymphd
	wait $lymphd
	grep 'refused-fork' $dir/err | sed 's/^/# lymphd: /'
}

paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null)
echo "# $(uname -r), perf_event_paranoid $paranoid"
run_case
echo "# refused-fork probe attached: ${how:-never}"
! grep -q 'failed to load the refused-fork probe' $dir/err
check 1 sensors_load_with_the_per_syscall_probe $? "$(grep refused-fork $dir/err)"
ok=1
case "$how" in
per-syscall) ok=0 ;;
raw)	# only with the reason said, and only where lymphd cannot do better
	grep -q 'raw_syscalls:sys_exit' $dir/err && ok=0
	[ -n "$paranoid" ] && [ "$paranoid" -le 2 ] &&
		[ -e /sys/kernel/tracing/events/syscalls/sys_exit_clone3 ] && ok=1 ;;
esac
check 2 refused_fork_probe_attaches $ok "attached: ${how:-never}; $(grep refused-fork $dir/err)"

if [ -n "$paranoid" ] && echo 2 >/proc/sys/kernel/perf_event_paranoid; then
	run_case
	echo "$paranoid" >/proc/sys/kernel/perf_event_paranoid
	echo "# at perf_event_paranoid 2, refused-fork probe attached: ${how:-never}"
	[ "$how" = per-syscall ] && ! grep -q 'raw_syscalls' $dir/err
	check 3 refused_fork_probe_per_syscall_at_paranoid_2 $? \
		"attached: ${how:-never}; $(grep refused-fork $dir/err)"
else
	echo "ok 3 refused_fork_probe_per_syscall_at_paranoid_2 # SKIP cannot set perf_event_paranoid"
fi

[ $fail = 0 ] || sed 's/^/# /' $dir/err | tail -n 20
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
