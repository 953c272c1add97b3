/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What only the index's own files (index.c, page.c, hash.c, alloc.c, and
 * the files that look inside it: verify.c, stats.c, main.c) and its KUnit
 * suites use: per-pfn records, the hash, the caches.
 */
#ifndef _HMENT_INTERNAL_H
#define _HMENT_INTERNAL_H

#include <linux/xarray.h>
#include "hment.h"

/*
 * A steal examines no more than this many records under its caller's
 * locks, then gives up and leaves the rotor where it stopped.
 */
#define HMENT_STEAL_SCAN	1024

/*
 * Records come in chunks of 64 pfns (1 KB), allocated when one of them is
 * first mapped: the pages a workload maps cluster, but rarely fill 2M.
 */
#define HMENT_CHUNK_SHIFT	6
#define HMENT_CHUNK_PFNS	BIT(HMENT_CHUNK_SHIFT)

#define HMENT_PAGE_EMBEDDED	BIT(0)

/**
 * struct hment_page - per-pfn record, the part of illumos's page_t we need
 * @embed_ht:	when embedded: page-table page of the only mapping
 * @hments:	otherwise: id of the first of the page's hments (0 when
 *		unmapped); either way the word is 0 only when unmapped
 * @share:	number of hments on @hments; 0 when embedded
 * @entry:	when embedded: entry of the only mapping
 * @flags:	HMENT_PAGE_EMBEDDED
 * @szc:	highest level any mapping of this pfn used since it was last
 *		unmapped; tells hment_mapcnt() which group leaders to visit
 *
 * Protected by the pfn's mapping-list lock. Records are allocated in chunks
 * on first use and live as long as the index: a pointer to one stays good.
 */
struct hment_page {
	union {
		struct hment_htable *embed_ht;
		unsigned long hments;
	};
	u32 share;
	u16 entry;
	u8 flags;
	u8 szc;
};

/* main.c */
extern struct kmem_cache *hment_cache;
extern struct kmem_cache *hment_htable_cache;
extern struct kmem_cache *hment_records_cache;
extern struct kmem_cache *hment_shadow_cache;

/* index.c */
spinlock_t *hment_locks_alloc(unsigned int n, struct lock_class_key *class);
struct hment *hment_steal_from_page(struct hment_index *idx,
				    unsigned long pfn);

/* page.c: per-pfn records and their locks */
struct hment_page *hment_page_find_or_alloc(struct hment_index *idx,
					    unsigned long pfn, gfp_t gfp);
struct hment_page *hment_page_find_stock(struct hment_index *idx,
					 unsigned long pfn, gfp_t gfp,
					 struct hment_stock *stock);
int hment_pages_init(struct hment_index *idx, const struct hment_params *p);
void hment_pages_destroy(struct hment_index *idx);

/* hash.c */
unsigned int hment_hash_index(struct hment_index *idx, unsigned long ptpfn,
			      unsigned int entry);
void hment_hash_insert(struct hment_index *idx, struct hment *hm,
		       unsigned long pfn);
struct hment *hment_hash_remove(struct hment_index *idx,
				struct hment_htable *ht, unsigned int entry,
				unsigned long pfn);
struct hment *hment_hash_find(struct hment_index *idx, struct hment_htable *ht,
			      unsigned int entry, unsigned long pfn);
void hment_hash_chains(struct hment_index *idx, unsigned long *longest,
		       unsigned long *used_buckets);
int hment_hash_resize(struct hment_index *idx, unsigned int buckets);
unsigned long hment_hash_count(struct hment_index *idx);
bool hment_hash_key_moved(struct hment_index *idx, unsigned long ptpfn,
			  unsigned int entry);
u64 hment_hash_bytes(struct hment_index *idx);
int hment_hash_init(struct hment_index *idx, const struct hment_params *p);
void hment_hash_destroy(struct hment_index *idx);

/* Hot paths: inline, so that lockdep assertions cost nothing without lockdep. */

/**
 * hment_page_chunk - the chunk of records that holds a pfn's, if allocated
 * @idx: index
 * @pfn: page frame number
 *
 * Return: the chunk's first record (of pfn rounded down to
 * HMENT_CHUNK_PFNS), or NULL when @pfn is out of range or no pfn of the
 * chunk was ever mapped.
 */
static inline struct hment_page *hment_page_chunk(struct hment_index *idx,
						  unsigned long pfn)
{
	if (pfn >= idx->max_pfn)
		return NULL;
	/* The xarray publishes a chunk after it was zeroed, and never frees it. */
	return xa_load(&idx->records, pfn >> HMENT_CHUNK_SHIFT);
}

/**
 * hment_page_find - find the record of a pfn, if it has one
 * @idx: index
 * @pfn: page frame number
 *
 * Return: the record, or NULL when @pfn is out of range or its chunk was
 * never allocated (so the pfn was never mapped).
 */
static inline struct hment_page *hment_page_find(struct hment_index *idx,
						 unsigned long pfn)
{
	struct hment_page *chunk = hment_page_chunk(idx, pfn);

	return chunk ? &chunk[pfn & (HMENT_CHUNK_PFNS - 1)] : NULL;
}

#endif /* _HMENT_INTERNAL_H */
