/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The walker (walker.c): reads a process's live page tables and brings
 * the index in step with them. x86 only.
 */
#ifndef _HMENT_WALKER_H
#define _HMENT_WALKER_H

#include <linux/types.h>
#include "hment.h"

/**
 * struct hment_sync_stats - what one sync did
 * @duration_ns: wall time
 * @hats:	address spaces walked
 * @tables:	page-table pages examined
 * @entries:	entries examined
 * @leaves:	counted leaves found (raw walk only)
 * @expected:	hments a first sync was expected to add (leaves of pages
 *		mapped more than once, read ahead of it to size the hash)
 * @added:	mappings added to the index
 * @removed:	mappings removed from it
 * @errors:	mappings that could not be indexed
 * @retries:	table passes undone because an invalidation raced
 */
struct hment_sync_stats {
	u64 duration_ns;
	unsigned long hats;
	unsigned long tables;
	unsigned long entries;
	unsigned long leaves;
	unsigned long expected;
	unsigned long added;
	unsigned long removed;
	unsigned long errors;
	unsigned long retries;
};

/* walker.c */
int hment_sync_hat(struct hment_hat *hat, struct hment_sync_stats *st,
		   bool record);
int hment_sync_all(struct hment_index *idx, struct hment_sync_stats *st,
		   bool record);
int hment_sync_pid(struct hment_index *idx, pid_t pid,
		   struct hment_sync_stats *st, bool record);

#endif /* _HMENT_WALKER_H */
