// SPDX-License-Identifier: GPL-2.0
/*
 * Per-pfn records and the striped mapping-list locks that guard them.
 *
 * Records sit in chunks of HMENT_CHUNK_PFNS, found through a flat directory
 * indexed by pfn / HMENT_CHUNK_PFNS: O(1) from pfn to record, and memory
 * that never gets mapped costs one directory slot per chunk, not a record
 * per page.
 */
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "hment.h"

/**
 * hment_page_get - find the record of a pfn, allocating its chunk if needed
 * @idx: index
 * @pfn: page frame number
 * @gfp: allocation flags for a new chunk
 *
 * Return: the record, ERR_PTR(-ERANGE) when @pfn is beyond the index, or
 * ERR_PTR(-ENOMEM).
 */
struct hment_page *hment_page_get(struct hment_index *idx, unsigned long pfn,
				  gfp_t gfp)
{
	struct hment_page **slot, *chunk, *theirs;

	if (pfn >= idx->max_pfn)
		return ERR_PTR(-ERANGE);
	slot = &idx->chunks[pfn >> HMENT_CHUNK_SHIFT];
	/* Pairs with the cmpxchg() below: a published chunk is seen zeroed. */
	chunk = smp_load_acquire(slot);
	if (chunk)
		return &chunk[pfn & (HMENT_CHUNK_PFNS - 1)];

	if (hment_should_fail(&idx->fault, HMENT_FAULT_RECORDS)) {
		hment_stat_inc(idx, HMENT_STAT_FAULT_INJECTED);
		return ERR_PTR(-ENOMEM);
	}
	chunk = kcalloc(HMENT_CHUNK_PFNS, sizeof(*chunk), gfp | __GFP_NOWARN);
	if (!chunk)
		return ERR_PTR(-ENOMEM);

	/*
	 * Fully ordered: whoever sees our pointer sees zeroed records, and if
	 * another mapper got there first we see theirs zeroed too.
	 */
	theirs = cmpxchg(slot, NULL, chunk);
	if (theirs) {
		kfree(chunk);
		chunk = theirs;
	} else {
		hment_stat_add(idx, HMENT_STAT_RECORDS, HMENT_CHUNK_PFNS);
	}
	return &chunk[pfn & (HMENT_CHUNK_PFNS - 1)];
}
EXPORT_SYMBOL_IF_KUNIT(hment_page_get);

/**
 * hment_pages_init - set up the record directory and mapping-list locks
 * @idx: index being built
 * @p: its parameters
 *
 * Return: 0 or -ENOMEM.
 */
int hment_pages_init(struct hment_index *idx, const struct hment_params *p)
{
	static struct lock_class_key mlist_lock_class;

	if (hment_should_fail(&idx->fault, HMENT_FAULT_INDEX))
		return -ENOMEM;
	idx->max_pfn = p->max_pfn;
	idx->nr_chunks = DIV_ROUND_UP(p->max_pfn, HMENT_CHUNK_PFNS);
	idx->chunks = kvcalloc(idx->nr_chunks, sizeof(*idx->chunks),
			       GFP_KERNEL);
	if (!idx->chunks)
		return -ENOMEM;

	idx->mlist_lock_mask = p->mlist_locks - 1;
	idx->mlist_locks = hment_locks_alloc(p->mlist_locks, &mlist_lock_class);
	if (!idx->mlist_locks) {
		kvfree(idx->chunks);
		return -ENOMEM;
	}
	return 0;
}

/**
 * hment_pages_destroy - free every record chunk and the lock array
 * @idx: index, already emptied of mappings
 */
void hment_pages_destroy(struct hment_index *idx)
{
	unsigned long i;

	for (i = 0; i < idx->nr_chunks; i++) {
		if (!idx->chunks[i])
			continue;
		kfree(idx->chunks[i]);
		hment_stat_add(idx, HMENT_STAT_RECORDS, -HMENT_CHUNK_PFNS);
	}
	kvfree(idx->chunks);
	kfree(idx->mlist_locks);
}
