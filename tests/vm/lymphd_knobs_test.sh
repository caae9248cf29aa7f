#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# In the guest, lymphd --source=kmod writes its policy into lymph.ko:
#  1. at start, /sys/kernel/lymph/ says what [throttle] and [protect] say
#     (budget, burst, dead times, mode, protected uids, the per-uid budget
#     where the module has it) and the weather lymphd sees;
#  2. the journal has a "module knobs" record of what was written;
#  3. lymphctl status (text and --json) shows what the module runs with;
#  4. after the policy changes and lymphd reloads (SIGHUP), the knobs say
#     the new policy (a dead_time_min above the old max included: written
#     in an order the module accepts);
#  5. and after lymphctl reload of a third policy too.
# Skips until lymphd is built with a kmod source.  KTAP, Totals last.
. /lib/lymph-test/ktap.sh
dir=/tmp/lymphd-knobs
k=/sys/kernel/lymph
ktap_plan knobs_written_at_start knobs_journaled lymphctl_status_shows_the_knobs \
	knobs_follow_sighup_reload knobs_follow_lymphctl_reload every_write_journaled
knob() { cat $k/$1 2>/dev/null; }
# wait_knob NAME VALUE: up to 60 s (TCG is slow); 0 when it says VALUE
wait_knob() {
	i=0
	while [ "$(knob $1)" != "$2" ] && [ $i -lt 600 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	[ "$(knob $1)" = "$2" ]
}
# knobs_are MODE BUDGET BURST MIN MAX UIDS UID_BUDGET UID_BURST: what
# differs goes to $why
knobs_are() {
	why=""
	for pair in "mode=$1" "clone_budget=$2" "clone_burst=$3" "dead_time_min_ms=$4" \
		    "dead_time_max_ms=$5" "protected_uids=$6"; do
		name=${pair%%=*} want=${pair#*=}
		[ "$(knob $name)" = "$want" ] || why="$why $name='$(knob $name)' (want '$want')"
	done
	# kparity's per-uid knobs, where this module has them
	if [ -e $k/uid_clone_budget ]; then
		[ "$(knob uid_clone_budget)" = "$7" ] || why="$why uid_clone_budget='$(knob uid_clone_budget)' (want '$7')"
		[ "$(knob uid_clone_burst)" = "$8" ] || why="$why uid_clone_burst='$(knob uid_clone_burst)' (want '$8')"
	fi
	case "$(knob weather)" in
	sunny|cloudy|unsettled|stormy) ;;
	*) why="$why weather='$(knob weather)' (want the weather lymphd sees)" ;;
	esac
	[ -z "$why" ]
}
[ -n "$build" ] && [ -x "$build/lymphd" ] && [ -x "$build/lymphctl" ] ||
	skip_all "lymphd or lymphctl is not in the VM (not built)"
"$build/lymphd" --help 2>&1 | grep -q kmod || skip_all "lymphd has no --source=kmod"
rmmod lymph 2>/dev/null
insmod /lib/modules/lymph.ko || skip_all "insmod failed"
[ -e $k/uid_clone_budget ] || echo "# this lymph.ko has no uid_clone_budget: the per-uid budget is not checked"
rm -rf $dir
mkdir -p $dir
chmod 700 $dir
umask 022
# The weather never scales the budgets here (factor 1 in every weather).
cat >$dir/lymph.conf <<EOF
[throttle]
budget = 50
burst = 80
dead_time_min = 150ms
dead_time_max = 2s
uid_budget = 300
uid_burst = 600

[protect]
uid = 1234
uid = 5678

[weather]
budget_factor_stormy = 1
EOF
"$build/lymphd" --source=kmod -c $dir/lymph.conf --journal=$dir/journal \
	--socket=$dir/sock >$dir/out 2>$dir/err &
lymphd=$!

# 1. At start (the weather once lymphd's station is up).
wait_knob clone_budget 50
i=0
while [ "$(knob weather)" = unknown ] && [ $i -lt 600 ]; do
	i=$((i + 1))
	sleep 0.1
done
knobs_are observe 50 80 150 2000 "1234 5678" 300 600
check 1 knobs_written_at_start $? "after start:$why"

# 2. Journaled.
i=0
while ! grep -q '"type":"module"' $dir/journal 2>/dev/null && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.1
done
grep '"type":"module"' $dir/journal | grep '"action":"knobs"' | grep '"clone_budget":50' |
	grep '"mode":"observe"' | grep -q '"result":"ok"'
check 2 knobs_journaled $? "no module knobs record with clone_budget 50: $(grep '"type":"module"' $dir/journal | head -n 2)"

# 3. lymphctl status, text and JSON.
i=0
while [ ! -S $dir/sock ] && [ $i -lt 300 ]; do
	i=$((i + 1))
	sleep 0.1
done
"$build/lymphctl" --socket=$dir/sock status >$dir/status 2>&1
"$build/lymphctl" --socket=$dir/sock --json status >$dir/status.json 2>&1
grep -q "^kernel throttle: lymph.ko ($k): observe mode, clone budget 50/s burst 80, dead time 150..2000 ms" $dir/status &&
	grep -q 'protected uids 1234 5678' $dir/status &&
	grep -q '"kernel_throttle"' $dir/status.json && grep -q '"clone_budget": *50' $dir/status.json
check 3 lymphctl_status_shows_the_knobs $? "status: $(grep 'kernel throttle' $dir/status) / $(tr -d '\n' <$dir/status.json | head -c 300)"

# 4. A new policy, SIGHUP: enforce, new budgets, a dead time above the
#    old max (min is written after max), another protected uid.
cat >$dir/lymph.conf <<EOF
[lymphd]
mode = enforce

[throttle]
budget = 70
burst = 90
dead_time_min = 3s
dead_time_max = 8s
uid_budget = 400
uid_burst = 700

[protect]
uid = 4321

[weather]
budget_factor_stormy = 1
EOF
kill -HUP $lymphd
wait_knob clone_budget 70
knobs_are enforce 70 90 3000 8000 4321 400 700
check 4 knobs_follow_sighup_reload $? "after SIGHUP:$why"

# 5. Another policy, lymphctl reload: back down, no protected uid.
cat >$dir/lymph.conf <<EOF
[throttle]
budget = 30
burst = 40
dead_time_min = 100ms
dead_time_max = 1s
uid_budget = 0

[weather]
budget_factor_stormy = 1
EOF
"$build/lymphctl" --socket=$dir/sock reload >$dir/reload 2>&1
rc=$?
wait_knob clone_budget 30
knobs_are observe 30 40 100 1000 "" 0 2000
r=$?
[ $rc = 0 ] && [ $r = 0 ]
check 5 knobs_follow_lymphctl_reload $? "lymphctl reload exit $rc ($(cat $dir/reload)):$why"

# 6. Every write journaled, none failed, and lymphd is still running.
n_ok=$(grep '"type":"module"' $dir/journal | grep -c '"result":"ok"')
n_bad=$(grep '"type":"module"' $dir/journal | grep -vc '"result":"ok"')
grep '"type":"module"' $dir/journal | grep '"clone_budget":70' | grep -q '"mode":"enforce"' &&
	grep '"type":"module"' $dir/journal | grep -q '"clone_budget":30' &&
	[ "$n_bad" = 0 ] && kill -0 $lymphd 2>/dev/null
check 6 every_write_journaled $? "module records: $n_ok ok, $n_bad not ok; lymphd alive: $(kill -0 $lymphd 2>/dev/null && echo yes || echo no)"

kill $lymphd 2>/dev/null
wait $lymphd
if [ $fail != 0 ]; then
	sed 's/^/# err: /' $dir/err | tail -n 20
	grep '"type":"module"' $dir/journal | sed 's/^/# journal: /' | tail -n 6
fi
rmmod lymph 2>/dev/null
ktap_totals
