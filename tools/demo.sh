#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# scripts/demo's guest side, run by scripts/testbox once hment.ko is
# loaded: start hment-workload, sync, and show what the index knows.
set -u
# shellcheck source=tools/workload.sh
. /hment/workload.sh
D=/sys/kernel/debug/hment

section() { printf '\n== %s\n' "$*"; }

workload_setup && workload_start || exit 1

section "the workload: who shares what (pids per kind of sharing)"
awk '{ pids[$2] = pids[$2] " " $1; pages[$2] = ($4 - $3) / 4096 }
	END { for (k in pids) printf "  %-10s %4d pages in pids%s\n", k, pages[k], pids[k] }' \
	"$WL_DIR/manifest" | sort

echo 1 >"$D/sync"
section "sync: every user process's page tables walked"
awk '{ v[$1] = $2 }
	END { printf "  %.1f ms: %d address spaces, %d page tables, %d entries read;\n", v["duration_ns"] / 1e6, v["hats"], v["tables"], v["entries"]
	      printf "  %d mappings added, %d removed, %d errors\n", v["added"], v["removed"], v["errors"] }' "$D/sync"

section "sharing histogram: pages by how many mappings they have"
awk '{ k[NR] = $1; n[NR] = $2; if ($2 > max) max = $2 }
	END { for (i = 1; i <= NR; i++) {
		w = int(40 * n[i] / max); if (!w) w = 1
		bar = ""; for (j = 0; j < w; j++) bar = bar "#"
		printf "  %6s mappings: %6d pages %s\n", k[i], n[i], bar } }' "$D/histogram"

section "the most-shared pages, and who maps them"
/hment/hment-top -s -n 4 -m 4
echo
/hment/hment-top -s -k "$WL_DIR/manifest" -m 4

section "the index against the kernel's own counts"
/hment/hment-top -c

section "stats"
awk '{ printf "  %-20s %12s%s", $1, $2, NR % 3 ? "" : "\n" } END { if (NR % 3) print "" }' "$D/stats"

workload_stop
