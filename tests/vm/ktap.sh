# SPDX-License-Identifier: GPL-2.0-only
#
# KTAP output for the VM's shell tests (tests/vm/*_test.sh, busybox sh):
# a library they source, never run as a test itself.  scripts/vm/mkinitramfs
# installs it as /lib/lymph-test/ktap.sh, out of /tests/ (whatever is there
# the guest's init runs).
#
#   . /lib/lymph-test/ktap.sh
#   ktap_plan NAME...		"TAP version 13" and the plan, one test a NAME
#   skip_all REASON		every test of the plan skipped, the Totals; exit 0
#   check N NAME STATUS [REASON]	"ok"/"not ok" as STATUS is 0 or not, counted
#   skip_one N NAME REASON	one test skipped, counted
#   ktap_totals			the Totals line (last)
#
# It sets build (lymph.build= of the kernel command line: where lymphd and
# lymphctl are in the guest) and pass, fail, skip (the counts so far).
# shellcheck disable=SC2034 # used by the tests that source this
build=$(sed -n 's/.*lymph\.build=\([^ ]*\).*/\1/p' /proc/cmdline)
pass=0 fail=0 skip=0
ktap_names=

ktap_plan() {
	ktap_names="$*"
	echo "TAP version 13"
	echo "1..$#"
}

skip_all() {
	ktap_n=0
	for ktap_name in $ktap_names; do
		ktap_n=$((ktap_n + 1))
		echo "ok $ktap_n $ktap_name # SKIP $1"
	done
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:$ktap_n error:0"
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

skip_one() {	# skip_one N NAME REASON
	echo "ok $1 $2 # SKIP $3"
	skip=$((skip + 1))
}

ktap_totals() {
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
}
