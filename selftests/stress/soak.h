/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The soak's state, shared by its worker processes (one MAP_SHARED
 * page): stop and phase flags, the load generation, and counters.
 */
#ifndef HMENT_SOAK_H
#define HMENT_SOAK_H

#include "stress.h"

#define SOAK_DIR	"/tmp/hment-soak"
#define RECENT		64

enum soak_counter {
	/* what was done */
	C_PROCS, C_EXECS, C_THREADS, C_MMAPS, C_MUNMAPS, C_MREMAPS,
	C_MPROTECTS, C_DONTNEED, C_FREE, C_THP, C_THP_SPLITS, C_KSM_MERGE,
	C_KSM_UNMERGE, C_HUGETLB, C_HUGETLB_NOMEM, C_MIDSYNC, C_MIDSYNC_HIT,
	C_SYNCS, C_SYNC_ADDED, C_VERIFY_OK, C_KPC_READS, C_KPC_MB,
	C_LOOKUPS, C_LOOKUP_LINES, C_TRACKS, C_UNTRACKS, C_TRACK_ESRCH,
	C_HOLDS, C_LOADS, C_UNLOADS, C_RMMOD_EAGAIN, C_RMMOD_EBUSY,
	C_RMMOD_QUIESCED, C_RMMOD_GAVEUP, C_ABSENT, C_ENOMEM, C_SYNC_MS,
	C_VERIFY_MS, C_QUIESCE_MS,
	/* what went wrong: each must stay 0 */
	C_BAD_SYNC, C_BAD_VERIFY, C_BAD_KPC, C_BAD_LOOKUP, C_BAD_TRACK,
	C_BAD_LOAD, C_BAD_WORKER,
	NR_COUNTERS
};

/* Counters of the module's stats summed over loads (they restart). */
enum { FS_FAULT, FS_ALLOC_FAIL, FS_STEALS, FS_STOLEN, FS_STALE_MARKS,
	NR_FSTATS };

struct soak_shared {
	int stop;
	int phase;		/* 1: plain, 2: fault injection */
	int want_unload;	/* the loader asks the others to let go: */
#define UNLOAD_SOFT	1	/* workers that open files on their own */
#define UNLOAD_ALL	2	/* and the holder, whose readers pin it */
	unsigned long max_pfn;
	unsigned long c[NR_COUNTERS];
	pid_t recent[RECENT];	/* recent pids, for track/untrack */
	unsigned long nrecent;
	int diag_budget;
	int pin_reports;	/* who pinned it, told for the first two */
	/* the loader's view of the module's stats, per load and summed */
	unsigned long gen;
	long fs_last[NR_FSTATS], fs_total[NR_FSTATS];
	long stale_max, ksm_sharing_max;
	unsigned long hot[64];	/* pfns kpagecount showed mapped */
};

extern struct soak_shared *sh;

#endif
