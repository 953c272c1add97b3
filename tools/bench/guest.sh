#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# The benchmark's guest side, run by scripts/bench through scripts/testbox
# --run once hment.ko is loaded. For each size of /hment/bench.conf it
# starts bench-workload and measures, BENCH_REPS times each: the raw walk,
# a full sync from an empty index (a module reload empties it), a re-sync
# of the unchanged system, a sync after 10% of the mappings changed,
# debugfs lookups against the peer's rescan, the peer's index build,
# kpagecount against /proc/kpagecount, and 1 against 2 concurrent syncers
# with default and with single locks; and the module's memory by its
# stats against the kernel's accounting around insmod, sync and rmmod.
# Then the demo's workload (memory only) and one "single" workload (pages
# mapped once) for the memory cost of a page against an extra mapping.
#
# Output: "BENCH TAG KEY MEDIAN V1,V2,..." lines, which scripts/bench
# (tools/bench/report.py) turns into the table; times are in ns.
set -u
# shellcheck source=/dev/null
. /hment/bench.conf	# BENCH_SIZES BENCH_REPS BENCH_LOOKUPS BENCH_SINGLE
D=/sys/kernel/debug/hment
STATE=/tmp/bench-workload.state
wl=

log() { echo "bench: [$(cut -d' ' -f1 /proc/uptime)s] $*"; }

fail() {
	echo "bench: FAIL $*"
	[ -z "$wl" ] || kill "$wl"
	exit 1
}

get() { awk -v k="$1" '$1 == k { print $2; exit }'; }	# KEY <FILE

emit() {	# TAG KEY VALUE...: the median of the values, then all of them
	tag=$1 key=$2
	shift 2
	[ -n "$*" ] || fail "$tag $key: no value"
	med=$(printf '%s\n' "$@" | sort -n |
		awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	echo "BENCH $tag $key $med $(echo "$@" | tr ' ' ,)"
}

emit_file() {	# TAG FILE PREFIX KEY...: values read from a debugfs file
	tag=$1 file=$2 prefix=$3
	shift 3
	for k in "$@"; do
		v=$(get "$k" <"$file")
		# an older module may lack a figure: leave it out
		[ -z "$v" ] || emit "$tag" "$prefix$k" "$v"
	done
}

# shellcheck disable=SC2086 # HMENT_ARGS and the extra ones are word lists
reload() {	# [PARAM=VALUE...]: an empty index, every process tracked
	if ! rmmod hment || ! insmod /hment/hment.ko $HMENT_ARGS "$@"; then
		fail "reload $*"
	fi
}

trigger() { echo "$2" >"$D/$1" || fail "echo $2 > $1"; }

wl_start() {	# WORKLOAD-ARGS...: sets wl (root pid) and pids
	rm -f "$STATE"
	bench-workload -f "$STATE" "$@" &
	wl=$!
	n=0
	until grep -q '^ready' "$STATE" 2>/dev/null; do
		kill -0 "$wl" 2>/dev/null || fail "bench-workload $* died"
		n=$((n + 1))
		[ "$n" -lt 1200 ] || fail "bench-workload $*: not ready"
		sleep 0.5
	done
	pids=$(awk '$1 == "pid" { print $2 }' "$STATE")
}

wl_change() {	# GEN: the workload's GENth change of 10%
	kill -USR1 "$wl"
	until grep -q "^changed $1\$" "$STATE"; do
		kill -0 "$wl" 2>/dev/null || fail "bench-workload died"
		sleep 0.2
	done
}

wl_stop() {
	kill "$wl"
	wait "$wl"
	wl=
}

# Every workload process's hat emptied and made anew: the next "pid N"
# sync of each is a full one.
retrack() {
	for p in $pids; do
		trigger track "-$p"
		trigger track "$p"
	done
}

syncers() {	# TAG SUFFIX: 1 then 2 syncers over all the workload's mms
	one='' two=''
	if [ "$2" = striped ]; then	# the box's own ceiling, in userspace
		for r in $(seq "$BENCH_REPS"); do
			one="$one $(hbench cpu 1 | get ns)"
			two="$two $(hbench cpu 2 | get ns)"
		done
		# shellcheck disable=SC2086
		{ emit "$1" cpu1_ns $one; emit "$1" cpu2_ns $two; }
		one='' two=''
	fi
	for r in $(seq "$BENCH_REPS"); do
		retrack
		# shellcheck disable=SC2086 # pids is a list
		one="$one $(hbench syncers 1 $pids | get ns)" || fail syncers
		retrack
		# shellcheck disable=SC2086
		two="$two $(hbench syncers 2 $pids | get ns)" || fail syncers
	done
	# shellcheck disable=SC2086
	emit "$1" "sync1_$2" $one
	# shellcheck disable=SC2086
	emit "$1" "sync2_$2" $two
}

# The kernel's own accounting, against the stats' mem_total: unreclaimable
# slab (kmalloc, large kmalloc and the module's caches; debugfs dentries
# and inodes are reclaimable and left out), vmalloc and per-cpu memory,
# and the xarray nodes (radix_tree_node, a reclaimable cache, counted by
# its objects), in bytes. The module's code (vmalloc'd) is taken off below.
kmem() {
	# empty slabs kept on per-cpu and partial lists go back to the page
	# allocator first: what is left is what objects hold
	for f in /sys/kernel/slab/*/shrink; do echo 1 >"$f"; done 2>/dev/null
	m=$(awk '/^(SUnreclaim|VmallocUsed|Percpu):/ { kb += $2 }
		END { print kb * 1024 }' /proc/meminfo)
	x=$(awk '$1 == "radix_tree_node" { print $2 * $4 }' /proc/slabinfo)
	echo $((m + x))
}

# Slab pages of the module's own caches (a merged cache counts others too).
kcaches() {
	b=0
	for c in hment hment_htable hment_records hment_shadow; do
		d=/sys/kernel/slab/$c
		[ -d $d ] || continue
		[ ! -L $d ] || echo "bench: cache $c is merged into $(readlink $d)" >&2
		b=$((b + $(cut -d' ' -f1 $d/slabs) * (4096 << $(cat $d/order))))
	done
	echo $b
}

settle() { sleep 2; }	# RCU frees, a resize queued by the sync

# The module's caches still there after rmmod: kmem_cache_destroy() keeps
# (and reports) a cache that was not empty.
kcaches_left() {
	n=0
	for c in hment hment_htable hment_records hment_shadow; do
		[ ! -e /sys/kernel/slab/$c ] || n=$((n + 1))
	done
	echo $n
}

# shellcheck disable=SC2086 # HMENT_ARGS is a word list
mem_check() {	# TAG: the module's part, before insmod / after sync / rmmod
	kern='' stats='' left='' caches='' sstats='' noise='' cleft=''
	for r in $(seq "$BENCH_REPS"); do
		rmmod hment || fail rmmod
		settle
		# the counters' own drift over a cycle's time, without the module
		k0=$(kmem)
		settle
		settle
		noise="$noise $(($(kmem) - k0))"
		k0=$(kmem)
		insmod /hment/hment.ko $HMENT_ARGS || fail insmod
		trigger sync 1
		settle
		k1=$(kmem)
		code=$((($(cat /sys/module/hment/coresize) + 4095) / 4096 * 4096))
		stats="$stats $(get mem_total <$D/stats)"
		caches="$caches $(kcaches)"
		sstats="$sstats $(awk '$1 ~ /^mem_(hments|htables|records)$/ {
			b += $2 } END { print b }' $D/stats)"
		rmmod hment || fail rmmod
		settle
		k2=$(kmem)
		cleft="$cleft $(kcaches_left)"
		insmod /hment/hment.ko $HMENT_ARGS || fail insmod
		kern="$kern $((k1 - k0 - code))"
		left="$left $((k2 - k0))"
	done
	# shellcheck disable=SC2086
	{ emit "$1" kmem_index $kern; emit "$1" kmem_stats $stats
	  emit "$1" kmem_left $left; emit "$1" kmem_caches $caches
	  emit "$1" kmem_caches_stats $sstats; emit "$1" kmem_noise $noise
	  emit "$1" kmem_caches_left $cleft; }
}

# The demo's workload (tools/workload.sh), when scripts/bench sent it.
bench_demo() {
	# shellcheck source=tools/workload.sh
	. /hment/workload.sh
	log "demo: starting hment-workload"
	if ! workload_setup || ! workload_start >/dev/null; then
		fail "demo workload"
	fi
	mem_check demo
	trigger sync 1
	emit_file demo $D/stats "" mappings pages_mapped live_hments records \
		htables shadow_blocks hats hash_buckets hash_buckets_used \
		hash_longest_chain mem_hments mem_records mem_htables mem_hats \
		mem_hash mem_fixed mem_total
	workload_stop
	log "demo: done"
}

# With scripts/bench --perf: profiles of a full sync, a re-sync, a sync
# after 10% changed, the lookups and a kpagecount read, as "PERF" lines.
# The host's perf runs through its own loader and libs.
perf() {
	/hment/perf/lib/ld-linux-x86-64.so.2 --library-path /hment/perf/lib \
		/hment/perf/perf "$@"
}

profile() {	# WHAT CMD...: cpu-clock samples with call graphs
	what=$1
	shift
	perf record -q -e cpu-clock -F 2000 -g -o /tmp/perf.data -- "$@" \
		>/dev/null 2>&1 || { echo "PERF $what: perf record failed"; return; }
	echo "PERF ==== $what"
	perf report -i /tmp/perf.data --stdio --no-children --sort sym \
		--percent-limit 1 -g none 2>/dev/null | grep -v '^#' | grep . |
		sed 's/^/PERF /'
	perf report -i /tmp/perf.data --stdio --children --sort sym \
		--percent-limit 5 -g none 2>/dev/null | grep -v '^#' | grep . |
		sed 's/^/PERF children: /'
	# where in a function: the most sampled offsets, for objdump -d
	perf script -i /tmp/perf.data -G -F ip,sym,symoff 2>/dev/null |
		awk '{ print $2 }' | sort | uniq -c | sort -rn | head -n 30 |
		sed 's/^/PERF ip: /'
}

bench_size() {	# SIZE
	s=$1
	log "$s: starting the workload"
	wl_start "$s"
	log "$s: workload ready"
	mem_check "$s"
	log "$s: memory against the kernel's accounting done"
	walk='' full='' resync='' peer='' tuples=''
	for r in $(seq "$BENCH_REPS"); do
		reload
		trigger walk 1
		walk="$walk $(get duration_ns <$D/walk)"
		trigger sync 1
		full="$full $(get duration_ns <$D/sync)"
		cp $D/sync /tmp/full
		cp $D/stats /tmp/stats
		trigger sync 1
		resync="$resync $(get duration_ns <$D/sync)"
		# the peer next to the syncs, so host noise hits both alike
		hbench peer-index >/tmp/out || fail peer-index
		peer="$peer $(get ns </tmp/out)"
		tuples="$tuples $(get tuples </tmp/out)"
	done
	# shellcheck disable=SC2086
	{ emit "$s" walk_ns $walk; emit "$s" full_ns $full
	  emit "$s" resync_ns $resync; emit "$s" peer_ns $peer
	  emit "$s" peer_tuples $tuples; }
	emit_file "$s" $D/walk walk_ leaves tables hats
	emit_file "$s" /tmp/full full_ added expected errors retries hats
	emit_file "$s" /tmp/stats "" mappings pages_mapped live_hments \
		records htables shadow_blocks hats hash_buckets \
		hash_buckets_used hash_longest_chain mlist_locks hash_locks \
		hment_size mem_hments mem_records mem_htables mem_hats \
		mem_hash mem_fixed mem_total
	emit "$s" verify "$(head -n 1 $D/verify)"
	log "$s: walk, syncs and peer done"

	change='' added='' removed='' cwalk=''
	for r in $(seq "$BENCH_REPS"); do
		wl_change "$r"
		# its own walk, of the changed tables, for a paired ratio
		trigger walk 1
		cwalk="$cwalk $(get duration_ns <$D/walk)"
		trigger sync 1
		change="$change $(get duration_ns <$D/sync)"
		added="$added $(get added <$D/sync)"
		removed="$removed $(get removed <$D/sync)"
	done
	# shellcheck disable=SC2086
	{ emit "$s" change_ns $change; emit "$s" change_walk_ns $cwalk
	  emit "$s" change_added $added
	  emit "$s" change_removed $removed; }
	log "$s: changes done"

	look='' lhits='' peerlook='' hits='' kpc='' proc=''
	for r in $(seq "$BENCH_REPS"); do
		hbench lookup "$BENCH_LOOKUPS" "$r" >/tmp/out || fail lookup
		look="$look $(get ns </tmp/out)"
		lhits="$lhits $(get hits </tmp/out)"
		hbench peer-lookup "$r" >/tmp/out || fail peer-lookup
		peerlook="$peerlook $(get ns </tmp/out)"
		hits="$hits $(get hits </tmp/out)"
		kpc="$kpc $(hbench read $D/kpagecount | get ns)"
		proc="$proc $(hbench read /proc/kpagecount | get ns)"
	done
	# shellcheck disable=SC2086
	{ emit "$s" lookup_ns $look; emit "$s" lookup_hits $lhits
	  emit "$s" peer_lookup_ns $peerlook; emit "$s" peer_lookup_hits $hits
	  emit "$s" kpagecount_ns $kpc; emit "$s" proc_kpagecount_ns $proc; }
	log "$s: lookups and kpagecount done"

	if [ -d /hment/perf ] && [ "$s" = "$last" ]; then
		reload
		profile "$s full sync" sh -c "echo 1 > $D/sync"
		profile "$s resync" sh -c "echo 1 > $D/sync"
		wl_change $((BENCH_REPS + 1))
		profile "$s 10% changed" sh -c "echo 1 > $D/sync"
		# ten times the lookups, so that picking the pfns is noise
		profile "$s lookups" hbench lookup $((BENCH_LOOKUPS * 10)) 1
		profile "$s kpagecount" hbench read $D/kpagecount
		log "$s: profiles done"
	fi

	syncers "$s" striped
	reload hash_locks=1 mlist_locks=1
	trigger sync 1
	syncers "$s" onelock
	reload
	log "$s: syncers done"
	wl_stop
}

log "sizes $BENCH_SIZES, $BENCH_REPS repetitions, $BENCH_LOOKUPS lookups"
emit info cpus "$(grep -c ^processor /proc/cpuinfo)"
emit info mem_kb "$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)"
for last in $BENCH_SIZES; do :; done
for size in $BENCH_SIZES; do
	bench_size "$size"
done

[ ! -x /hment/hment-workload ] || bench_demo

log "single: starting the workload"
wl_start -s single "$BENCH_SINGLE"
reload
trigger sync 1
emit_file single $D/stats "" mappings pages_mapped live_hments records \
	htables hats mem_hments mem_records mem_htables mem_hats mem_hash \
	mem_total
wl_stop
log "done"
