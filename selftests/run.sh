#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# The in-VM selftests. scripts/selftests runs this through scripts/testbox
# (--run selftests/run.sh, with hment-workload, hment-check and
# tools/workload.sh added), after hment.ko is loaded: start the workload,
# run hment-check (TAP), stop the workload. Exits non-zero on any
# "not ok", on a missing plan, or when the workload cannot be set up.
set -u
# shellcheck source=tools/workload.sh
. /hment/workload.sh

echo "selftests: $(uname -r)," \
	"$(grep -qw la57 /proc/cpuinfo && echo 5 || echo 4)-level paging"
uptime_cs() { tr -d . </proc/uptime | cut -d' ' -f1; }

rc=0
t0=$(uptime_cs)
if workload_setup && workload_start; then
	t1=$(uptime_cs)
	# To a file, not a pipe: no other process may start while it checks.
	/hment/hment-check "$WL_DIR" >/tmp/hment-check.tap 2>&1 || rc=$?
	t2=$(uptime_cs)
	cat /tmp/hment-check.tap
	echo "selftests: workload set up in $(((t1 - t0) / 100))s," \
		"checks took $(((t2 - t1) / 100))s"
	if grep -q '^not ok' /tmp/hment-check.tap ||
		! grep -q '^1\.\.[0-9]' /tmp/hment-check.tap; then
		[ "$rc" -ne 0 ] || rc=1
	fi
else
	rc=1
fi
workload_stop
echo "selftests: exit $rc"
exit "$rc"
