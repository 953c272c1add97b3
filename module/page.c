// SPDX-License-Identifier: GPL-2.0
/*
 * Per-pfn records and the striped mapping-list locks that guard them.
 *
 * Records sit in chunks of HMENT_CHUNK_PFNS, in an xarray indexed by
 * pfn / HMENT_CHUNK_PFNS: memory that is never mapped costs nothing, not
 * even a directory slot, and the xarray's nodes grow with the chunks.
 * Chunks live as long as the index, so a record found stays valid.
 */
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "hment.h"
#include "internal.h"

/**
 * hment_page_find_or_alloc - find the record of a pfn, allocating its chunk if needed
 * @idx: index
 * @pfn: page frame number
 * @gfp: allocation flags for a new chunk and xarray nodes
 *
 * Return: the record, ERR_PTR(-ERANGE) when @pfn is beyond the index, or
 * ERR_PTR(-ENOMEM).
 */
struct hment_page *hment_page_find_or_alloc(struct hment_index *idx,
					    unsigned long pfn, gfp_t gfp)
{
	unsigned long key = pfn >> HMENT_CHUNK_SHIFT;
	struct hment_page *chunk, *theirs;

	if (pfn >= idx->max_pfn)
		return ERR_PTR(-ERANGE);
	chunk = xa_load(&idx->records, key);
	if (chunk)
		return &chunk[pfn & (HMENT_CHUNK_PFNS - 1)];

	if (hment_should_fail(&idx->fault, HMENT_FAULT_RECORDS)) {
		hment_stat_inc(idx, HMENT_STAT_FAULT_INJECTED);
		return ERR_PTR(-ENOMEM);
	}
	chunk = kmem_cache_zalloc(hment_records_cache, gfp | __GFP_NOWARN);
	if (!chunk)
		return ERR_PTR(-ENOMEM);

	/*
	 * The xarray publishes with release semantics: whoever finds our
	 * chunk finds it zeroed. If another mapper got there first, use
	 * theirs.
	 */
	theirs = xa_cmpxchg(&idx->records, key, NULL, chunk,
			    gfp | __GFP_NOWARN);
	if (xa_is_err(theirs)) {
		kmem_cache_free(hment_records_cache, chunk);
		return ERR_PTR(xa_err(theirs));
	}
	if (theirs) {
		kmem_cache_free(hment_records_cache, chunk);
		chunk = theirs;
	} else {
		hment_stat_add(idx, HMENT_STAT_RECORDS, HMENT_CHUNK_PFNS);
	}
	return &chunk[pfn & (HMENT_CHUNK_PFNS - 1)];
}
EXPORT_SYMBOL_IF_KUNIT(hment_page_find_or_alloc);

/**
 * hment_records_next - where the next allocated chunk of records starts
 * @idx: index
 * @pfn: a pfn whose chunk is not allocated
 *
 * One xarray search skips a whole run of unallocated chunks, so that a
 * scan over every pfn costs what is allocated, not what the index covers.
 * xa_find() finds nothing when the start is past its max (xas_find(), 6.1
 * and 6.12 alike), so the last chunk needs no test of its own.
 *
 * Return: the first pfn of the next allocated chunk after @pfn's, or
 * max_pfn when there is none.
 */
unsigned long hment_records_next(struct hment_index *idx, unsigned long pfn)
{
	unsigned long key = (pfn >> HMENT_CHUNK_SHIFT) + 1;

	if (!xa_find(&idx->records, &key,
		     (idx->max_pfn - 1) >> HMENT_CHUNK_SHIFT, XA_PRESENT))
		return idx->max_pfn;
	return key << HMENT_CHUNK_SHIFT;
}
EXPORT_SYMBOL_IF_KUNIT(hment_records_next);

/**
 * hment_pages_init - set up the record xarray and mapping-list locks
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
	xa_init(&idx->records);

	idx->mlist_lock_mask = p->mlist_locks - 1;
	idx->mlist_locks = hment_locks_alloc(p->mlist_locks, &mlist_lock_class);
	if (!idx->mlist_locks)
		return -ENOMEM;
	return 0;
}

/**
 * hment_pages_destroy - free every record chunk and the lock array
 * @idx: index, already emptied of mappings
 */
void hment_pages_destroy(struct hment_index *idx)
{
	struct hment_page *chunk;
	unsigned long key;

	xa_for_each(&idx->records, key, chunk) {
		kmem_cache_free(hment_records_cache, chunk);
		hment_stat_add(idx, HMENT_STAT_RECORDS, -HMENT_CHUNK_PFNS);
	}
	xa_destroy(&idx->records);
	kfree(idx->mlist_locks);
}
