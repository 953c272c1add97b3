/* SPDX-License-Identifier: GPL-2.0 */
/*
 * htables: our record of each live page-table page of an address space
 * (htable.c), and the shadow of the pfn each entry is indexed for.
 */
#ifndef _HMENT_HTABLE_H
#define _HMENT_HTABLE_H

#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/rcupdate.h>
#include "hment.h"

/*
 * An htable's shadow comes in blocks of 64 entries (256 bytes), allocated
 * when one of them is first indexed: most page tables map a few runs.
 */
#define HMENT_SHADOW_SHIFT	6
#define HMENT_SHADOW_ENTRIES	BIT(HMENT_SHADOW_SHIFT)
#define HMENT_SHADOW_BLOCKS	(HMENT_ENTRIES >> HMENT_SHADOW_SHIFT)

/* Bit numbers in hment_htable.ht_flags */
#define HMENT_HT_STALE		0
#define HMENT_HT_WIDE		1	/* shadow holds unsigned longs, not u32 */
#define HMENT_HT_SHARED		2	/* a hugetlb PMD table other mms share */

/* What hment_htable.ht_shadow holds for an entry the index lacks. */
#define HMENT_NO_PFN		(~0UL)

/*
 * The top bit of an entry's shadow word: its leaf is in a VM_LOCKED VMA.
 * A u32 word therefore holds pfns below 2^31 - 1; past them the htable
 * is HMENT_HT_WIDE.
 */
#define HMENT_SHADOW_MLOCKED	BIT(BITS_PER_LONG - 1)
#define HMENT_SHADOW_MLOCKED32	BIT(31)

/**
 * struct hment_htable - our record of one live page-table page
 * @ht_next:	next in its bucket of the hat's htable hash (struct
 *		hment_htable_hash)
 * @ht_va:	first virtual address its entries map
 * @ht_level:	0 when its leaves map 4K, 1 for 2M, 2 for 1G
 * @ht_pfn:	pfn of the page-table page
 * @ht_hat:	address space it belongs to
 * @ht_shadow:	per entry, the pfn the index holds for it plus one, or 0,
 *		and in the top bit whether the leaf is in a VM_LOCKED VMA;
 *		written under that pfn's mapping-list lock. It lets a
 *		mapping be removed by (htable, entry) alone, without reading
 *		a page table that may be gone. In blocks of
 *		HMENT_SHADOW_ENTRIES u32 (unsigned long when HMENT_HT_WIDE),
 *		each set once, before its first entry is, and NULL until
 *		then; see hment_htable_shadow()
 * @ht_flags:	HMENT_HT_STALE: some of its entries could not be indexed
 *		(allocation failed) or were stolen; the next sync redoes it.
 *		HMENT_HT_WIDE: pfns past 32 bits, set at creation.
 *		HMENT_HT_SHARED: other mms map through the same table, as
 *		the last sync found it: its entries count once in all
 *		(hment_mapcnt())
 * @ht_busy:	non-zero while a sync works on it: never stolen from then
 * @ht_lock_cnt: entries marked mlocked in the shadow: never stolen from
 *		while non-zero
 * @ht_valid_cnt: index entries (embedded or hment) that name this htable
 * @ht_gen:	the last sync of its hat that found the page-table page
 * @ht_id:	its id in hment_index.ht_ids, which hments name it by
 * @ht_seen:	entries that sync found mapped (valid while @ht_gen is it);
 *		only the owner's sync reads it, never once the htable is out
 *		of the hash, so @ht_rcu shares its room (192 bytes, not 208)
 * @ht_rcu:	freed after a grace period: notifiers and hment_verify()
 *		find htables under RCU
 *
 * An htable is freed only when @ht_valid_cnt is zero, so anything that
 * reaches it through an index entry under a mapping-list lock may use it.
 */
struct hment_htable {
	/* what a lookup compares, in its first cache line */
	struct hment_htable __rcu *ht_next;
	unsigned long ht_va;
	u8 ht_level;
	unsigned long ht_pfn;
	struct hment_hat *ht_hat;
	void *ht_shadow[HMENT_SHADOW_BLOCKS];
	unsigned long ht_flags;
	atomic_t ht_busy;
	atomic_t ht_lock_cnt;
	atomic_t ht_valid_cnt;
	u32 ht_gen;
	u32 ht_id;
	union {
		DECLARE_BITMAP(ht_seen, HMENT_ENTRIES);
		struct rcu_head ht_rcu;
	};
};

/**
 * struct hment_htable_hash - a hat's htables by (level, address)
 * @rcu:	the table a resize replaced is freed after a grace period
 * @bits:	log2 of the number of buckets
 * @buckets:	chains of htables through &hment_htable.ht_next
 *
 * After illumos's hat_ht_hash: each hat hashes only its own htables, so
 * the table follows their number, not the address space's sparse extent
 * (an xarray keyed by address >> 21 needs several nodes of 576 bytes for
 * a process's few tables). It starts small and doubles (hment_htable_find_or_alloc()).
 */
struct hment_htable_hash {
	struct rcu_head rcu;
	unsigned int bits;
	struct hment_htable __rcu *buckets[];
};

#define HMENT_HT_HASH_BITS		4	/* a process's first table */
#define HMENT_HT_HASH_BITS_KERNEL	6

/* htable.c */
unsigned int hment_level_shift(unsigned int level);
struct hment_htable *hment_htable_find_or_alloc(struct hment_hat *hat,
						unsigned int level,
						unsigned long va,
						unsigned long ptpfn);
struct hment_htable *hment_htable_lookup(struct hment_hat *hat,
					 unsigned int level, unsigned long va);
int hment_htable_try_free(struct hment_htable *ht);
int hment_htable_shadow_prepare(struct hment_index *idx,
				struct hment_htable *ht, unsigned int entry,
				gfp_t gfp);
size_t hment_shadow_block_size(const struct hment_htable *ht);
u64 hment_shadow_block_bytes(const struct hment_index *idx);
void hment_htable_free(struct hment_htable *ht);
void hment_htable_mark_stale(struct hment_index *idx, struct hment_htable *ht);
void hment_htable_clear_stale(struct hment_index *idx,
			      struct hment_htable *ht);
bool hment_htable_stealable(const struct hment_htable *ht);

/* Names @ht and @entry in @hm. */
static inline void hment_set(struct hment *hm, struct hment_htable *ht,
			     unsigned int entry)
{
	hm->hm_ht_entry = ht->ht_id << HMENT_LEVEL_SHIFT | entry;
}

/*
 * An entry's shadow word, widened: pfn + 1 (0 for none), with the mlocked
 * mark in HMENT_SHADOW_MLOCKED.
 */
static inline unsigned long hment_shadow_word(const struct hment_htable *ht,
					      unsigned int entry)
{
	/* a block is set once, zeroed, and stays until the htable goes */
	const void *blk = READ_ONCE(ht->ht_shadow[entry >> HMENT_SHADOW_SHIFT]);
	unsigned int i = entry & (HMENT_SHADOW_ENTRIES - 1);
	u32 w;

	if (!blk)
		return 0;
	if (unlikely(test_bit(HMENT_HT_WIDE, &ht->ht_flags)))
		return READ_ONCE(((const unsigned long *)blk)[i]);
	w = READ_ONCE(((const u32 *)blk)[i]);
	return (w & ~HMENT_SHADOW_MLOCKED32) |
	       (w & HMENT_SHADOW_MLOCKED32 ? HMENT_SHADOW_MLOCKED : 0);
}

static inline void hment_shadow_word_set(struct hment_htable *ht,
					 unsigned int entry, unsigned long word)
{
	void *blk = ht->ht_shadow[entry >> HMENT_SHADOW_SHIFT];
	unsigned int i = entry & (HMENT_SHADOW_ENTRIES - 1);

	if (WARN_ON_ONCE(!blk))
		return;
	if (unlikely(test_bit(HMENT_HT_WIDE, &ht->ht_flags)))
		WRITE_ONCE(((unsigned long *)blk)[i], word);
	else
		WRITE_ONCE(((u32 *)blk)[i], (u32)word |
			   (word & HMENT_SHADOW_MLOCKED ?
			    HMENT_SHADOW_MLOCKED32 : 0));
}

/**
 * hment_htable_shadow - the pfn the index holds for an entry
 * @ht: the htable
 * @entry: the entry
 *
 * Return: the pfn, or HMENT_NO_PFN; stable only under that pfn's
 * mapping-list lock.
 */
static inline unsigned long hment_htable_shadow(const struct hment_htable *ht,
						unsigned int entry)
{
	/* 0 - 1 is HMENT_NO_PFN */
	return (hment_shadow_word(ht, entry) & ~HMENT_SHADOW_MLOCKED) - 1;
}

/**
 * hment_htable_mlocked - is an indexed entry marked mlocked?
 * @ht: the htable
 * @entry: the entry
 *
 * Return: the mark, exact under the list lock of the pfn it is indexed for.
 */
static inline bool hment_htable_mlocked(const struct hment_htable *ht,
					unsigned int entry)
{
	return hment_shadow_word(ht, entry) & HMENT_SHADOW_MLOCKED;
}

/**
 * hment_htable_in_step - does the index hold an entry as the walk found it?
 * @ht: the htable
 * @entry: the entry
 * @pfn: the pfn it maps
 * @mlocked: whether its VMA is VM_LOCKED
 *
 * One load and one compare: most entries of a re-sync are in step.
 *
 * Return: true when @entry is indexed for @pfn with that mark.
 */
static inline bool hment_htable_in_step(const struct hment_htable *ht,
					unsigned int entry, unsigned long pfn,
					bool mlocked)
{
	return hment_shadow_word(ht, entry) ==
	       ((pfn + 1) | (mlocked ? HMENT_SHADOW_MLOCKED : 0));
}

/**
 * hment_htable_set_shadow - note the pfn the index holds for an entry
 * @ht: the htable
 * @entry: the entry; its block was set by hment_htable_shadow_prepare()
 * @pfn: the pfn, or HMENT_NO_PFN; the entry is not marked mlocked
 *
 * Context: the mapping-list lock of the pfn named before and after.
 */
static inline void hment_htable_set_shadow(struct hment_htable *ht,
					   unsigned int entry,
					   unsigned long pfn)
{
	hment_shadow_word_set(ht, entry, pfn + 1);
}

/**
 * hment_htable_set_mlocked - mark or unmark an indexed entry as mlocked
 * @ht: the htable
 * @entry: the entry, indexed
 * @mlocked: the mark
 *
 * Context: the mapping-list lock of the pfn the entry is indexed for,
 * which is what guards its word: no atomic is needed.
 */
static inline void hment_htable_set_mlocked(struct hment_htable *ht,
					    unsigned int entry, bool mlocked)
{
	unsigned long word = hment_shadow_word(ht, entry);

	hment_shadow_word_set(ht, entry, mlocked ?
			      word | HMENT_SHADOW_MLOCKED :
			      word & ~HMENT_SHADOW_MLOCKED);
}

#endif /* _HMENT_HTABLE_H */
