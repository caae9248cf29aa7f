#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# In the guest (Debian's 6.12, whose patch makes perf_event_paranoid 3 refuse
# any perf event to a task without CAP_SYS_ADMIN: CAP_PERFMON is not
# enough there), lymphd on the BPF sensors with [throttle] in enforce mode, and a family with more
# than a quarter of its burst alive (60 sleeps, burst 100: within budget,
# nothing is held), so the probes ask lymphd to attach the refused-fork
# probe:
#  1. the sensors load with the probe's per-syscall programs (perf
#     tracepoint programs on syscalls:sys_exit_clone, ...): lymphd does
#     not say it loaded them without;
#  2. at perf_event_paranoid 3, lymphd started with every capability (like
#     the unit's) keeps the one the kernel wants for its perf event
#     (CAP_SYS_ADMIN here, or CAP_PERFMON) permitted, raised only around
#     its perf_event_open: it attaches the probe on the per-syscall
#     tracepoints (a perf event of lymphd's), says nothing of raw_syscalls,
#     `lymphctl status --json` says "per-syscall", and its effective set is
#     without either afterwards;
#  3. a lymphd started at perf_event_paranoid 2 keeps neither (an event of
#     its own needs nothing there); with the sysctl set to 3 after its
#     start it falls back to raw_syscalls:sys_exit (one more BPF link),
#     says why on stderr (it kept no capability for it; restart it), and
#     status says "raw".  (A lymphd started without CAP_SYS_ADMIN does not
#     load the BPF sensors on this kernel: that is the only lymphd without
#     it that has the probe.)
#  4. a lymphd started at perf_event_paranoid 2, and left there, gets the
#     per-syscall tracepoints keeping neither;
#  5. lymphd as it starts by default, at perf_event_paranoid 3: the probe
#     goes at the return of kernel_clone (fexit; one more BPF tracing link,
#     no perf event), status says "fexit", lymphd says nothing of a
#     fallback and keeps no perf capability (the fexit link needs none;
#     lymphd tried it before its capability drop), and a shell spinning
#     on refused forks at a pids cap of 1 (the family makes no successful
#     fork meanwhile: only its refusals can overdraw its bucket) is
#     stopped.
# Cases 1-4 run lymphd with LYMPH_NO_FEXIT=1: where fexit works, as here,
# lymphd prefers it to the tracepoints.  Which one is printed.  KTAP,
# Totals last.
. /lib/lymph-test/ktap.sh
dir=/tmp/lymphd-refusals
ktap_plan sensors_load_with_the_per_syscall_probe \
	per_syscall_at_paranoid_3_with_the_perf_capability \
	raw_fallback_at_paranoid_3_set_after_start per_syscall_at_paranoid_2_keeping_nothing \
	fexit_at_paranoid_3_charges_refused_forks
[ -n "$build" ] && [ -x "$build/lymphd" ] && [ -x "$build/lymphctl" ] ||
	skip_all "lymphd is not in the VM (not built)"
paranoid0=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null)
[ -n "$paranoid0" ] || skip_all "no kernel.perf_event_paranoid"
grep -q tracefs /proc/mounts || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mkdir -p $dir && chmod 0700 $dir
cat >$dir/lymph.conf <<CONF
[lymphd]
mode = enforce
[throttle]
budget = 50
burst = 100
CONF

# tracing_links PID: how many BPF tracing links (fentry/fexit, LSM) PID holds
tracing_links() {
	grep -l '^link_type:[[:space:]]*tracing' /proc/$1/fdinfo/* 2>/dev/null | wc -l
}
# run_case START-PARANOID [ARMED-PARANOID]: start lymphd at START-PARANOID
# (with LYMPH_NO_FEXIT=$nofx), set ARMED-PARANOID (if given), make the
# crowd, say in $how how the probe got attached (fexit, per-syscall, raw or
# nothing), in $said what `lymphctl status` says of it, in $capeff/$capprm
# lymphd's CapEff/CapPrm once attached, in $stopped whether the spinner
# (spin, with $spin set) was stopped; lymphd's stderr in $dir/err.  Status
# 1 (said) when the sysctl cannot be set or lymphd does not start.
run_case() {
	set_paranoid "$1" || { echo "# cannot set perf_event_paranoid $1"; return 1; }
	LYMPH_NO_FEXIT=$nofx "$build/lymphd" -c $dir/lymph.conf --source=bpf --quiet \
		--journal=$dir/journal --socket=$dir/sock >$dir/out 2>$dir/err &
	lymphd=$!
	i=0
	until "$build/lymphctl" --socket=$dir/sock status --json >$dir/status 2>/dev/null; do
		i=$((i + 1))
		if [ $i -ge 300 ]; then
			sed 's/^/# /' $dir/err
			kill $lymphd 2>/dev/null
			wait $lymphd
			echo "# lymphd did not start"
			return 1
		fi
		sleep 0.1
	done
	if [ -n "$2" ] && ! set_paranoid "$2"; then
		kill $lymphd
		wait $lymphd
		echo "# cannot set perf_event_paranoid $2"
		return 1
	fi
	links0=$(ls -l /proc/$lymphd/fd 2>/dev/null | grep -c 'bpf_link')
	tracing0=$(tracing_links $lymphd)
	# Not from this shell: lymphd's ancestors are never charged.
	sh -c 'i=0; while [ $i -lt 60 ]; do sleep 8 & i=$((i + 1)); done; wait' &
	crowd=$!
	how="" i=0
	# fexit is attached for good at lymphd's start: one tracing link more
	# than a lymphd without it has (case 4's, $tracing_nofx)
	[ -n "$tracing_nofx" ] && [ "$tracing0" -gt "$tracing_nofx" ] && how=fexit
	while [ -z "$how" ] && [ $i -lt 100 ]; do
		fds=$(ls -l /proc/$lymphd/fd 2>/dev/null)
		if [ "$(tracing_links $lymphd)" -gt "$tracing0" ]; then
			how=fexit
		elif echo "$fds" | grep -q 'perf_event'; then
			how=per-syscall
		elif [ "$(echo "$fds" | grep -c 'bpf_link')" -gt "$links0" ]; then
			how=raw
		fi
		i=$((i + 1))
		sleep 0.05
	done
	capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/$lymphd/status)
	capprm=$(sed -n 's/^CapPrm:[[:space:]]*//p' /proc/$lymphd/status)
	"$build/lymphctl" --socket=$dir/sock status --json >$dir/status 2>/dev/null
	said=$(sed -n 's/.*"refused_fork_probe": *"\([^"]*\)".*/\1/p' $dir/status)
	attached=$(sed -n 's/.*"refused_fork_probe_attached": *"\([^"]*\)".*/\1/p' $dir/status)
	pcap=$(sed -n 's/.*"perf_capability": *"\([^"]*\)".*/\1/p' $dir/status)
	stopped=""
	[ -n "$spin" ] && spin
	wait $crowd
	kill $lymphd
	wait $lymphd
	echo "# refused-fork probe attached: ${how:-never}; status says: ${said:-nothing}," \
		"perf capability ${pcap:-nothing}; CapPrm $capprm CapEff $capeff"
	grep 'refused-fork' $dir/err | sed 's/^/# lymphd: /'
}
# spin: an interactive shell (it goes on after a refused fork), fed by a
# writer outside its cgroup, makes 30 children that sleep (its family
# alive, within its burst: the probes have the probe armed), moves itself
# into a cgroup of pids.max 1 and spins on refused forks; in $stopped
# whether it is stopped (state T) within 20 s.  Both are killed.
spin() {
	local cg=/sys/fs/cgroup/lymph-refusals-spin sh i
	echo +pids >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
	mkdir -p $cg && echo 1 >$cg/pids.max || { echo "# cannot make $cg"; return; }
	mkfifo $dir/feed
	sh -i <$dir/feed >/dev/null 2>$dir/spin.err &
	sh=$!
	{
		i=0
		while [ $i -lt 30 ]; do
			echo 'sleep 10 &'
			i=$((i + 1))
		done
		echo "echo \$\$ >$cg/cgroup.procs"
		yes 'sleep 10 &'
	} >$dir/feed 2>/dev/null &
	i=0
	while [ $i -lt 200 ] && [ -z "$stopped" ]; do
		grep -q '^State:[[:space:]]*T' /proc/$sh/status 2>/dev/null && stopped=yes
		i=$((i + 1))
		sleep 0.1
	done
	echo "# spinner: ${stopped:-not stopped} after $i looks;" \
		"$(grep -c "can't fork" $dir/spin.err) refused forks said;" \
		"pids.events: $(cat $cg/pids.events 2>/dev/null)"
	kill -9 $sh $! 2>/dev/null
	wait $sh $! 2>/dev/null
	rm -f $dir/feed
	rmdir $cg 2>/dev/null
}
# has_perf HEXMASK: is CAP_SYS_ADMIN (21) or CAP_PERFMON (38) in it?
has_perf() {
	[ $(( (0x$1 >> 21) & 1 )) = 1 ] || [ $(( (0x$1 >> 38) & 1 )) = 1 ]
}
set_paranoid() {
	echo "$1" >/proc/sys/kernel/perf_event_paranoid 2>/dev/null &&
		[ "$(cat /proc/sys/kernel/perf_event_paranoid)" = "$1" ]
}
echo "# $(uname -r), perf_event_paranoid $paranoid0"

# 1-4 on the tracepoints (LYMPH_NO_FEXIT), 5 as lymphd starts by default
nofx=1 spin="" tracing_nofx=""
# 1, 2: lymphd as it starts (with every capability, like the unit), at 3
if run_case 3; then
	! grep -q 'failed to load the refused-fork probe' $dir/err
	check 1 sensors_load_with_the_per_syscall_probe $? "$(grep refused-fork $dir/err)"
	ok=1
	[ "$how" = per-syscall ] && [ "$said" = per-syscall ] && [ "$attached" = "on demand" ] &&
		! grep -q 'raw_syscalls' $dir/err && has_perf "$capprm" && ! has_perf "$capeff" &&
		[ "${pcap#CAP_}" != "$pcap" ] && ok=0
	check 2 per_syscall_at_paranoid_3_with_the_perf_capability $ok \
		"attached: ${how:-never}; status: ${said:-nothing}, ${attached:-nothing}; CapPrm $capprm CapEff $capeff; $(grep refused-fork $dir/err)"
else
	skip_one 1 sensors_load_with_the_per_syscall_probe "see above"
	skip_one 2 per_syscall_at_paranoid_3_with_the_perf_capability "see above"
fi

# 3: started at 2 (keeps nothing), armed at 3
if run_case 2 3; then
	ok=1
	[ "$how" = raw ] && [ "$said" = raw ] && ! has_perf "$capprm" && [ "$pcap" = none ] &&
		grep 'raw_syscalls:sys_exit' $dir/err | grep -q 'restart' && ok=0
	check 3 raw_fallback_at_paranoid_3_set_after_start $ok \
		"attached: ${how:-never}; status: ${said:-nothing}; CapPrm $capprm; $(grep refused-fork $dir/err)"
else
	skip_one 3 raw_fallback_at_paranoid_3_set_after_start "see above"
fi

# 4: started and armed at 2
if run_case 2; then
	ok=1
	[ "$how" = per-syscall ] && [ "$said" = per-syscall ] && ! has_perf "$capprm" &&
		[ "$pcap" = none ] && ! grep -q 'raw_syscalls' $dir/err && ok=0
	check 4 per_syscall_at_paranoid_2_keeping_nothing $ok \
		"attached: ${how:-never}; status: ${said:-nothing}; CapPrm $capprm; $(grep refused-fork $dir/err)"
else
	skip_one 4 per_syscall_at_paranoid_2_keeping_nothing "see above"
fi

# 5: by default, at 3: fexit, and a refused fork is charged
tracing_nofx=$tracing0 nofx="" spin=1
if run_case 3; then
	ok=1
	[ "$how" = fexit ] && [ "$said" = fexit ] && [ "$attached" = permanently ] &&
		[ "$stopped" = yes ] &&
		! grep -q 'failed to .*refused-fork' $dir/err && ! has_perf "$capprm" &&
		[ "$pcap" = none ] && ok=0
	check 5 fexit_at_paranoid_3_charges_refused_forks $ok \
		"attached: ${how:-never}; status: ${said:-nothing}, ${attached:-nothing}; spinner stopped: ${stopped:-no}; CapPrm $capprm; $(grep refused-fork $dir/err)"
else
	skip_one 5 fexit_at_paranoid_3_charges_refused_forks "see above"
fi
set_paranoid "$paranoid0"

[ $fail = 0 ] || sed 's/^/# /' $dir/err | tail -n 20
ktap_totals
