// SPDX-License-Identifier: GPL-2.0
/*
 * htables: our record of each live page-table page of an address space.
 *
 * They are found by level and by the virtual address they cover, not by
 * the page-table page's pfn: a page table can be freed and its page reused
 * while we still hold entries for it, and it is the address range that
 * the notifier and the next sync ask about.
 *
 * The owner of a hat (its sync) serialises creating and freeing its
 * htables; lookups may run alongside under RCU (notifiers, verify).
 */
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "hment.h"
#include "internal.h"
#include "htable.h"
#include "hat.h"

/**
 * hment_level_shift - log2 of the address span of a level's page table
 * @level: 0 (a PTE table spans 2M), 1 (a PMD table, 1G), 2 (a PUD table)
 *
 * Return: the shift.
 */
unsigned int hment_level_shift(unsigned int level)
{
	return PAGE_SHIFT + (level + 1) * HMENT_LEVEL_SHIFT;
}
EXPORT_SYMBOL_IF_KUNIT(hment_level_shift);

static unsigned long hment_htable_key(unsigned int level, unsigned long va)
{
	return va >> hment_level_shift(level);
}

/**
 * hment_htable_lookup - find the htable of a level covering an address
 * @hat: address space
 * @level: 0, 1 or 2
 * @va: any address the page table maps
 *
 * Context: the caller keeps the htable alive: it owns the hat, or holds
 * the RCU read lock.
 * Return: the htable or NULL.
 */
struct hment_htable *hment_htable_lookup(struct hment_hat *hat,
					 unsigned int level, unsigned long va)
{
	return xa_load(&hat->htables[level], hment_htable_key(level, va));
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_lookup);

static struct hment_htable *hment_htable_alloc(struct hment_index *idx)
{
	struct hment_htable *ht;

	if (hment_should_fail(&idx->fault, HMENT_FAULT_HTABLE)) {
		hment_stat_inc(idx, HMENT_STAT_FAULT_INJECTED);
		return NULL;
	}
	/* the shadow comes later, a block at a time */
	ht = kmem_cache_zalloc(hment_htable_cache, GFP_KERNEL);
	if (ht && idx->max_pfn > U32_MAX)
		__set_bit(HMENT_HT_WIDE, &ht->ht_flags);
	return ht;
}

/**
 * hment_shadow_block_size - bytes of one block of an htable's shadow
 * @ht: the htable
 *
 * Return: the size, 256 unless pfns need more than 32 bits.
 */
size_t hment_shadow_block_size(const struct hment_htable *ht)
{
	return HMENT_SHADOW_ENTRIES * (test_bit(HMENT_HT_WIDE, &ht->ht_flags) ?
				       sizeof(unsigned long) : sizeof(u32));
}

static void hment_shadow_block_free(const struct hment_htable *ht, void *blk)
{
	if (test_bit(HMENT_HT_WIDE, &ht->ht_flags))
		kfree(blk);
	else
		kmem_cache_free(hment_shadow_cache, blk);
}

/**
 * hment_shadow_block_bytes - what one shadow block of an index takes
 * @idx: index
 *
 * Return: bytes, slab rounding included.
 */
u64 hment_shadow_block_bytes(const struct hment_index *idx)
{
	if (idx->max_pfn > U32_MAX)
		return kmalloc_size_roundup(HMENT_SHADOW_ENTRIES *
					    sizeof(unsigned long));
	return ALIGN(kmem_cache_size(hment_shadow_cache), sizeof(void *));
}

/**
 * hment_htable_shadow_prepare - make room in the shadow for an entry
 * @idx: index
 * @ht: the htable
 * @entry: the entry about to be indexed
 * @gfp: allocation flags for a new block
 *
 * Called before the mapping-list lock is taken, so that recording the
 * mapping under it cannot fail for want of a shadow block.
 *
 * Return: 0 or -ENOMEM.
 */
int hment_htable_shadow_prepare(struct hment_index *idx,
				struct hment_htable *ht, unsigned int entry,
				gfp_t gfp)
{
	void **slot = &ht->ht_shadow[entry >> HMENT_SHADOW_SHIFT];
	void *blk;

	if (likely(READ_ONCE(*slot)))
		return 0;
	if (hment_should_fail(&idx->fault, HMENT_FAULT_HTABLE)) {
		hment_stat_inc(idx, HMENT_STAT_FAULT_INJECTED);
		return -ENOMEM;
	}
	if (test_bit(HMENT_HT_WIDE, &ht->ht_flags))
		blk = kzalloc(hment_shadow_block_size(ht), gfp | __GFP_NOWARN);
	else
		blk = kmem_cache_zalloc(hment_shadow_cache, gfp | __GFP_NOWARN);
	if (!blk)
		return -ENOMEM;
	/* fully ordered: a reader that sees the block sees it zeroed */
	if (cmpxchg(slot, NULL, blk))
		hment_shadow_block_free(ht, blk);
	else
		hment_stat_inc(idx, HMENT_STAT_SHADOW_BLOCKS);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_shadow_prepare);

/**
 * hment_htable_get - find or create the htable of a page-table page
 * @hat: address space
 * @level: 0, 1 or 2: its leaves map 4K, 2M or 1G
 * @va: any address the page table maps
 * @ptpfn: pfn of the page-table page
 *
 * Context: process context; may sleep.
 * Return: the htable; ERR_PTR(-EINVAL) for a bad level; ERR_PTR(-EEXIST)
 * when an htable for that range has another page-table page (the old table
 * was replaced: the caller retires it); or ERR_PTR(-ENOMEM).
 */
struct hment_htable *hment_htable_get(struct hment_hat *hat,
				      unsigned int level, unsigned long va,
				      unsigned long ptpfn)
{
	struct hment_index *idx = hat->idx;
	struct hment_htable *ht;
	int err;

	if (level >= HMENT_LEVELS)
		return ERR_PTR(-EINVAL);
	ht = hment_htable_lookup(hat, level, va);
	if (ht)
		return ht->ht_pfn == ptpfn ? ht : ERR_PTR(-EEXIST);

	ht = hment_htable_alloc(idx);
	if (!ht)
		return ERR_PTR(-ENOMEM);
	ht->ht_pfn = ptpfn;
	ht->ht_va = round_down(va, 1UL << hment_level_shift(level));
	ht->ht_hat = hat;
	ht->ht_level = level;

	err = xa_insert(&hat->htables[level], hment_htable_key(level, va), ht,
			GFP_KERNEL);
	if (err) {
		kmem_cache_free(hment_htable_cache, ht);
		return ERR_PTR(err == -EBUSY ? -EEXIST : err);
	}
	hment_stat_inc(idx, HMENT_STAT_HTABLES);
	return ht;
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_get);

static void hment_htable_free_rcu(struct rcu_head *head)
{
	struct hment_htable *ht = container_of(head, struct hment_htable,
					       ht_rcu);
	unsigned int i;

	for (i = 0; i < HMENT_SHADOW_BLOCKS; i++)
		if (ht->ht_shadow[i])
			hment_shadow_block_free(ht, ht->ht_shadow[i]);
	kmem_cache_free(hment_htable_cache, ht);
}

/**
 * hment_htable_free - forget an htable that no index entry names
 * @ht: the htable, already erased from its hat's xarray
 */
void hment_htable_free(struct hment_htable *ht)
{
	struct hment_index *idx = ht->ht_hat->idx;
	unsigned int i;

	if (test_bit(HMENT_HT_STALE, &ht->ht_flags))
		hment_stat_dec(idx, HMENT_STAT_STALE_HTABLES);
	hment_stat_dec(idx, HMENT_STAT_HTABLES);
	/* counted now: the index may be gone when the blocks are freed */
	for (i = 0; i < HMENT_SHADOW_BLOCKS; i++)
		if (ht->ht_shadow[i])
			hment_stat_dec(idx, HMENT_STAT_SHADOW_BLOCKS);
	call_rcu(&ht->ht_rcu, hment_htable_free_rcu);
}

/**
 * hment_htable_put - free an htable once nothing in the index names it
 * @ht: the htable
 *
 * Return: 0 when freed, -EBUSY while index entries still name it.
 */
int hment_htable_put(struct hment_htable *ht)
{
	if (atomic_read(&ht->ht_valid_cnt))
		return -EBUSY;
	xa_erase(&ht->ht_hat->htables[ht->ht_level],
		 hment_htable_key(ht->ht_level, ht->ht_va));
	hment_htable_free(ht);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_put);

/**
 * hment_htable_mark_stale - note that the index lacks some of @ht's entries
 * @idx: index
 * @ht: the htable
 */
void hment_htable_mark_stale(struct hment_index *idx, struct hment_htable *ht)
{
	if (test_and_set_bit(HMENT_HT_STALE, &ht->ht_flags))
		return;
	hment_stat_inc(idx, HMENT_STAT_STALE_MARKS);
	hment_stat_inc(idx, HMENT_STAT_STALE_HTABLES);
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_mark_stale);

/**
 * hment_htable_clear_stale - note that @ht is fully indexed again
 * @idx: index
 * @ht: the htable
 */
void hment_htable_clear_stale(struct hment_index *idx, struct hment_htable *ht)
{
	if (test_and_clear_bit(HMENT_HT_STALE, &ht->ht_flags))
		hment_stat_dec(idx, HMENT_STAT_STALE_HTABLES);
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_clear_stale);

/**
 * hment_htable_stealable - may the index drop one of @ht's entries?
 * @ht: the htable
 *
 * Never the kernel's, never one being synced, never one with mlocked
 * leaves. Read without locks: a sync that starts just after this check
 * finds the entry missing and puts it back.
 *
 * Return: true if it may.
 */
bool hment_htable_stealable(const struct hment_htable *ht)
{
	return !ht->ht_hat->kernel && !atomic_read(&ht->ht_busy) &&
	       !atomic_read(&ht->ht_lock_cnt);
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_stealable);
