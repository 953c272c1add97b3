# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# Sourced in the guest by selftests/run.sh and tools/demo.sh: prepare the
# kernel for hment-workload, start it and wait until it is ready, stop it.
# The files come in through scripts/testbox --add, so they are in /hment.

WL_BIN=/hment
WL_DIR=/tmp/hment-workload
WL_TMPFS=/mnt/hment-tmpfs
WL_PID=

wl_say() { echo "workload: $*"; }

workload_setup() {
	local thp=/sys/kernel/mm/transparent_hugepage

	mkdir -p "$WL_DIR" "$WL_TMPFS" &&
		mount -t tmpfs -o size=8m hment-tmpfs "$WL_TMPFS" || return 1
	# THP only where the workload asks (MADV_HUGEPAGE), so that nothing
	# else turns huge meanwhile; read faults there map the huge zero page.
	# PREEMPT_RT kernels have no THP: the workload then maps none.
	if [ -d "$thp" ]; then
		echo madvise >"$thp/enabled" && echo madvise >"$thp/defrag" &&
			echo 1 >"$thp/use_zero_page" || return 1
		# khugepaged would find nothing to collapse (the THP regions
		# are fully populated, the split one spans three VMAs); keep
		# it asleep anyway.
		echo 600000 >"$thp/khugepaged/scan_sleep_millisecs"
	fi
	# Nor should kcompactd move pages around on its own initiative.
	echo 0 >/proc/sys/vm/compaction_proactiveness 2>/dev/null
	echo 4 >/proc/sys/vm/nr_hugepages
	[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 1 ] ||
		{ wl_say "no hugetlb pages"; return 1; }
}

workload_start() {	# returns once every process is set up
	local i=0

	"$WL_BIN/hment-workload" -t "$WL_TMPFS" "$WL_DIR" \
		>/tmp/hment-workload.out 2>&1 &
	WL_PID=$!
	while [ ! -e "$WL_DIR/ready" ]; do
		if ! kill -0 "$WL_PID" 2>/dev/null || [ "$i" -ge 1800 ]; then
			wl_say "not ready after $((i / 10))s:"
			cat /tmp/hment-workload.out
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	cat /tmp/hment-workload.out
}

workload_stop() {
	local i=0

	[ -n "$WL_PID" ] || return 0
	kill "$WL_PID" 2>/dev/null	# it takes its whole process group along
	wait "$WL_PID" 2>/dev/null
	WL_PID=
	while ! umount "$WL_TMPFS" 2>/dev/null && [ "$i" -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo 0 >/proc/sys/vm/nr_hugepages
}
