#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# The guest side of scripts/stress, run by scripts/testbox (--run) after it
# loaded hment.ko with $HMENT_ARGS; /hment/hment-stress and
# /hment/stress.conf come with --add. In order:
#   1. unload hment, settle, note MemFree and Slab: the baseline;
#   2. load it again; the hostile table, the privilege checks, the fuzz,
#      the race tests, the soak (which reloads the module itself);
#   3. unload, settle, and compare MemFree and Slab with the baseline;
#   4. load it once more, for the test box's own rmmod and kmemleak scan.
# Prints TAP (the C suites number their own lines); exits non-zero if any
# line is "not ok".
set -u
# shellcheck source=/dev/null
. /hment/stress.conf
fails=0

tap() {	# STATUS DESCRIPTION
	if [ "$1" -eq 0 ]; then
		echo "ok - $2"
	else
		echo "not ok - $2"
		fails=$((fails + 1))
	fi
}

mark() {	# a splat in the console log can be matched to its step
	echo "hment-stress: $*" >/dev/kmsg
	echo "# stress: $*"
}

# Free what the kernel keeps only as a cache: page cache and dentries,
# empty slabs, and the KASAN quarantine (kmem_cache_shrink flushes a
# cache's quarantined objects); compaction drains the per-cpu page lists.
settle() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	for f in /sys/kernel/slab/*/shrink; do
		echo 1 >"$f" 2>/dev/null
	done
	echo 1 >/proc/sys/vm/compact_memory 2>/dev/null
	sleep 2
	echo 3 >/proc/sys/vm/drop_caches
}

meminfo() {	# FIELD -> kB
	awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo
}

# Free memory: MemFree plus the pages parked on per-cpu lists, which
# nothing here can drain and which move by megabytes.
free_kb() {
	awk '$1 == "count:" { pcp += $2 } END { print pcp * 4 }' /proc/zoneinfo |
		{ read -r pcp; echo $(($(meminfo MemFree) + pcp)); }
}

snapshot() {	# FILE: /proc/meminfo plus the per-cpu lists
	{ cat /proc/meminfo; echo "FreeWithPcp: $(free_kb) kB"; } >"$1"
}

# Where the memory went: every field that moved by 256 kB or more.
mem_diff() {	# BEFORE AFTER
	awk 'NR == FNR { a[$1] = $2; next }
		$1 in a && ($2 - a[$1] >= 256 || a[$1] - $2 >= 256) {
			printf " %s%+d", $1, $2 - a[$1] }
		END { print " (kB)" }' "$1" "$2"
}

unload() {	# rmmod, retried: a reader may still be closing a file
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		rmmod hment 2>/dev/null && return 0
		sleep 1
	done
	rmmod hment
}

# shellcheck disable=SC2086 # HMENT_ARGS is a list of module parameters
load() { insmod /hment/hment.ko $HMENT_ARGS; }

run() {	# NAME ARGS...: one suite of hment-stress, if it was asked for
	case " $STRESS_SUITES " in *" $1 "*) ;; *) return 0 ;; esac
	mark "$1"
	/hment/hment-stress "$@"
	tap $? "hment-stress $1 exited 0"
}

echo "stress: $(uname -r), $(nproc) CPUs, $(meminfo MemTotal) kB," \
	"soak ${STRESS_SECONDS}s, fuzz seed $STRESS_SEED"
# The soak maps hugetlb pages and THPs; reserve the pool before the
# baseline so that it is not counted as memory the run used.
echo 16 >/proc/sys/vm/nr_hugepages
grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled &&
	echo madvise >/sys/kernel/mm/transparent_hugepage/enabled
echo "stress: hugetlb pages $(cat /proc/sys/vm/nr_hugepages)," \
	"THP $(cat /sys/kernel/mm/transparent_hugepage/enabled)"

mark baseline
unload
tap $? "rmmod hment before the baseline"
settle
snapshot /tmp/mem0
free0=$(free_kb) slab0=$(meminfo Slab)
load
tap $? "insmod hment"

run hostile
run priv
run fuzz --seed "$STRESS_SEED" --count "$STRESS_FUZZ_COUNT" \
	--seconds "$STRESS_FUZZ_SECONDS"
run races --seconds "$STRESS_RACE_SECONDS" --seed "$STRESS_SEED" \
	--only "${STRESS_RACE_ONLY:-}"
run soak --seconds "$STRESS_SECONDS" --ko /hment/hment.ko \
	--args "$HMENT_ARGS" --seed "$STRESS_SEED"

mark final unload
unload
tap $? "rmmod hment after the soak"
settle
snapshot /tmp/mem1
free1=$(free_kb) slab1=$(meminfo Slab)
drop=$((free0 - free1)) grow=$((slab1 - slab0))
echo "stress: memory: free $free0 -> $free1 kB (down $drop)," \
	"Slab $slab0 -> $slab1 kB (up $grow), tolerance ${STRESS_MEM_TOL_KB} kB"
echo "stress: memory moved:$(mem_diff /tmp/mem0 /tmp/mem1)"
[ "$drop" -le "$STRESS_MEM_TOL_KB" ] && [ "$grow" -le "$STRESS_MEM_TOL_KB" ]
tap $? "memory back to its baseline after unload (free down ${drop} kB, Slab up ${grow} kB)"

mark reload for the test box
load
tap $? "insmod hment again for the test box's rmmod"
echo 0 >/proc/sys/vm/nr_hugepages
exit "$fails"
