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
 * Records come in chunks of 16 pfns (128 bytes), allocated when one of
 * them is first mapped: the pages a workload maps cluster, but often
 * sparsely (the demo's 1,478 pages fell in about 105 chunks of 64, 14
 * pages to a chunk), and an xarray entry per 16 pfns costs less than the
 * empty records of larger chunks.
 */
#define HMENT_CHUNK_SHIFT	4
#define HMENT_CHUNK_PFNS	BIT(HMENT_CHUNK_SHIFT)

/* hment_page.meta: the szc in the low bits, the share above them */
#define HMENT_PAGE_SZC_MASK	3U
#define HMENT_PAGE_SHARE_SHIFT	2

/**
 * struct hment_page - per-pfn record, the part of illumos's page_t we need
 * @head:	0 when unmapped; embedded: the only mapping, named as an hment
 *		names its own (&hment.hm_ht_entry: htable id and entry; ids
 *		start at 1, so never 0); listed: id of the first hment
 * @meta:	the share (hments on the list; 0 when embedded, which is how
 *		embedded is told from listed) << HMENT_PAGE_SHARE_SHIFT, and
 *		the szc: the highest level any mapping of this pfn used since
 *		it was last unmapped; tells hment_mapcnt() which group
 *		leaders to visit
 *
 * 8 bytes. The share's 30 bits outnumber the page-table entries that can
 * exist (2^30 of them are 8 GB of page tables). Protected by the pfn's
 * mapping-list lock; @head and @meta are read without it by counters,
 * verify's quick skip and the steal rotor. Records are allocated in chunks
 * on first use and live as long as the index: a pointer to one stays good.
 */
struct hment_page {
	u32 head;
	u32 meta;
};

static inline bool hment_page_mapped(const struct hment_page *pg)
{
	return READ_ONCE(pg->head);
}

static inline u32 hment_page_share(const struct hment_page *pg)
{
	return READ_ONCE(pg->meta) >> HMENT_PAGE_SHARE_SHIFT;
}

static inline unsigned int hment_page_szc(const struct hment_page *pg)
{
	return READ_ONCE(pg->meta) & HMENT_PAGE_SZC_MASK;
}

/* Under the pfn's list lock: one mapping, held in the record itself. */
static inline bool hment_page_embedded(const struct hment_page *pg)
{
	return pg->head && !hment_page_share(pg);
}

/* The embedded mapping's htable and entry; only while embedded. */
static inline struct hment_htable *hment_page_embed_ht(struct hment_index *idx,
						       const struct hment_page *pg)
{
	return hment_ids_get(&idx->ht_ids, pg->head >> HMENT_LEVEL_SHIFT);
}

static inline unsigned int hment_page_embed_entry(const struct hment_page *pg)
{
	return pg->head & (HMENT_ENTRIES - 1);
}

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
unsigned long hment_records_next(struct hment_index *idx, unsigned long pfn);
int hment_pages_init(struct hment_index *idx, const struct hment_params *p);
void hment_pages_destroy(struct hment_index *idx);

/* hash.c */
unsigned int hment_hash_index(struct hment_index *idx,
			      const struct hment_htable *ht, unsigned int entry);
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
bool hment_hash_key_moved(struct hment_index *idx,
			  const struct hment_htable *ht, unsigned int entry);
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

/**
 * hment_page_find_stock - hment_page_find_or_alloc(), remembering the chunk
 * @idx: index
 * @pfn: page frame number
 * @gfp: allocation flags for a new chunk and xarray nodes
 * @stock: the caller's stock, or NULL
 *
 * A sync's pass meets the pfns of one chunk in a row: the first one looks
 * the chunk up, the others find it in @stock, inline.
 *
 * Return: as hment_page_find_or_alloc().
 */
static inline struct hment_page *
hment_page_find_stock(struct hment_index *idx, unsigned long pfn, gfp_t gfp,
		      struct hment_stock *stock)
{
	unsigned long key = pfn >> HMENT_CHUNK_SHIFT;
	unsigned int i = pfn & (HMENT_CHUNK_PFNS - 1);
	struct hment_page *pg;

	if (stock && stock->chunk && stock->chunk_key == key &&
	    pfn < idx->max_pfn)
		return &stock->chunk[i];
	pg = hment_page_find_or_alloc(idx, pfn, gfp);
	if (stock && !IS_ERR(pg)) {
		stock->chunk = pg - i;
		stock->chunk_key = key;
	}
	return pg;
}

#endif /* _HMENT_INTERNAL_H */
