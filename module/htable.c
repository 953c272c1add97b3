// SPDX-License-Identifier: GPL-2.0
/*
 * htables: our record of each live page-table page of an address space.
 *
 * They are found by level and by the virtual address they cover, not by
 * the page-table page's pfn: a page table can be freed and its page reused
 * while we still hold entries for it, and it is the address range that
 * the notifier and the next sync ask about.
 *
 * Each hat hashes its own htables by (level, first address), as illumos's
 * HAT does (hat_t.hat_ht_hash, sized there by the kind of address space):
 * the table follows the number of htables, a bucket pointer per two at
 * most, where xarrays keyed by address >> 21, >> 30 and >> 39 spent
 * several 576-byte nodes on a process's handful of tables.
 *
 * The owner of a hat (its sync, under hment_hat.lock) serialises creating
 * and freeing its htables and resizing the hash; lookups may run alongside
 * under RCU (notifiers, verify). A chain is changed as hlist_add_head_rcu()
 * and hlist_del_rcu() change theirs: a reader on a removed htable still
 * finds the rest of its chain, and the htable is freed after a grace
 * period. A resize moves the htables one by one into the new table: a
 * reader of the old one can be led into a new chain, so it may miss an
 * htable (never loop, never see a freed one); hment_hat.ht_hash_seq tells
 * it to look again.
 */
#include <linux/hash.h>
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

static unsigned int hment_htable_bucket(const struct hment_htable_hash *h,
					unsigned int level, unsigned long va)
{
	unsigned long key = va >> hment_level_shift(level);

	/* the levels' keys overlap: the level goes into the top bits */
	return hash_long(key ^ ((unsigned long)level << (BITS_PER_LONG - 2)),
			 h->bits);
}

static struct hment_htable_hash *hment_htable_hash_alloc(unsigned int bits)
{
	struct hment_htable_hash *h;

	h = kzalloc(struct_size(h, buckets, 1UL << bits),
		    GFP_KERNEL | __GFP_NOWARN);
	if (h)
		h->bits = bits;
	return h;
}

/**
 * hment_htables_init - give a new hat its empty htable hash
 * @hat: the hat, not yet visible to anyone
 *
 * Return: 0 or -ENOMEM.
 */
int hment_htables_init(struct hment_hat *hat)
{
	struct hment_htable_hash *h;

	h = hment_htable_hash_alloc(hat->kernel ? HMENT_HT_HASH_BITS_KERNEL :
				    HMENT_HT_HASH_BITS);
	if (!h)
		return -ENOMEM;
	seqcount_init(&hat->ht_hash_seq);
	hat->ht_count = 0;
	RCU_INIT_POINTER(hat->ht_hash, h);
	return 0;
}

/**
 * hment_htables_destroy - free a hat's htable hash
 * @hat: the hat, its last reference gone and its htables freed
 */
void hment_htables_destroy(struct hment_hat *hat)
{
	kfree(rcu_dereference_protected(hat->ht_hash, !kref_read(&hat->ref)));
	RCU_INIT_POINTER(hat->ht_hash, NULL);
}

/**
 * hment_htables_hash_bytes - what a hat's htable hash takes
 * @hat: the hat
 *
 * Context: the hat is kept alive by the caller (hment_index.hats_lock).
 * Return: bytes, slab rounding included.
 */
u64 hment_htables_hash_bytes(struct hment_hat *hat)
{
	const struct hment_htable_hash *h;
	u64 bytes;

	rcu_read_lock();
	h = rcu_dereference(hat->ht_hash);
	bytes = kmalloc_size_roundup(struct_size(h, buckets, 1UL << h->bits));
	rcu_read_unlock();
	return bytes;
}

/**
 * hment_htable_lookup - find the htable of a level covering an address
 * @hat: address space
 * @level: 0, 1 or 2
 * @va: any address the page table maps
 *
 * Context: any. The caller keeps the htable alive: it owns the hat, or
 * holds the RCU read lock (or a mapping-list lock under which an index
 * entry names the htable).
 * Return: the htable or NULL.
 */
struct hment_htable *hment_htable_lookup(struct hment_hat *hat,
					 unsigned int level, unsigned long va)
{
	unsigned long base = round_down(va, 1UL << hment_level_shift(level));
	const struct hment_htable_hash *h;
	struct hment_htable *ht;
	unsigned int seq, b;

	/* as xa_load() did: the hash itself is read under RCU */
	rcu_read_lock();
	do {
		seq = read_seqcount_begin(&hat->ht_hash_seq);
		h = rcu_dereference(hat->ht_hash);
		b = hment_htable_bucket(h, level, va);
		for (ht = rcu_dereference(h->buckets[b]); ht;
		     ht = rcu_dereference(ht->ht_next))
			if (ht->ht_va == base && ht->ht_level == level)
				goto out;
	} while (read_seqcount_retry(&hat->ht_hash_seq, seq));
out:
	rcu_read_unlock();
	return ht;
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_lookup);

/**
 * hment_htable_hash_resize - move a hat's htables into 2^@bits buckets
 * @hat: the hat
 * @bits: log2 of the new number of buckets, 1 to 20
 *
 * Readers of the old table may miss htables while they move (see the top
 * of this file): the sequence count is odd meanwhile, and the move is
 * short, bounded by the hat's htables, with preemption off so that a
 * spinning reader waits for it only briefly.
 *
 * Context: the hat's owner (hment_hat.lock held); may sleep.
 * Return: 0, -EINVAL for a bad size, or -ENOMEM (the table stays).
 */
int hment_htable_hash_resize(struct hment_hat *hat, unsigned int bits)
{
	struct hment_htable_hash *old, *new;
	struct hment_htable *ht;
	unsigned int b, nb;

	lockdep_assert_held(&hat->lock);
	if (bits < 1 || bits > 20)
		return -EINVAL;
	new = hment_htable_hash_alloc(bits);
	if (!new)
		return -ENOMEM;
	old = hment_hat_deref(hat, hat->ht_hash);
	preempt_disable();
	write_seqcount_begin(&hat->ht_hash_seq);
	for (b = 0; b < (1U << old->bits); b++) {
		while ((ht = hment_hat_deref(hat, old->buckets[b]))) {
			RCU_INIT_POINTER(old->buckets[b],
					 hment_hat_deref(hat, ht->ht_next));
			nb = hment_htable_bucket(new, ht->ht_level, ht->ht_va);
			/* new's chains are only ever read through ht_next */
			rcu_assign_pointer(ht->ht_next,
					   hment_hat_deref(hat,
							   new->buckets[nb]));
			RCU_INIT_POINTER(new->buckets[nb], ht);
		}
	}
	rcu_assign_pointer(hat->ht_hash, new);
	write_seqcount_end(&hat->ht_hash_seq);
	preempt_enable();
	kfree_rcu(old, rcu);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_hash_resize);

static void hment_htable_hash_add(struct hment_hat *hat,
				  struct hment_htable *ht)
{
	struct hment_htable_hash *h = hment_hat_deref(hat, hat->ht_hash);
	unsigned int b = hment_htable_bucket(h, ht->ht_level, ht->ht_va);

	RCU_INIT_POINTER(ht->ht_next, hment_hat_deref(hat, h->buckets[b]));
	/* publishes ht's fields with it */
	rcu_assign_pointer(h->buckets[b], ht);
	/* without memory for a bigger table, the chains just get longer */
	if (++hat->ht_count > 2U << h->bits)
		hment_htable_hash_resize(hat, h->bits + 1);
}

static void hment_htable_hash_del(struct hment_hat *hat,
				  struct hment_htable *ht)
{
	struct hment_htable_hash *h = hment_hat_deref(hat, hat->ht_hash);
	struct hment_htable __rcu **link;
	struct hment_htable *cur;

	link = &h->buckets[hment_htable_bucket(h, ht->ht_level, ht->ht_va)];
	while ((cur = hment_hat_deref(hat, *link)) != ht) {
		if (WARN_ON_ONCE(!cur))
			return;
		link = &cur->ht_next;
	}
	/* ht keeps its ht_next for readers standing on it */
	RCU_INIT_POINTER(*link, hment_hat_deref(hat, ht->ht_next));
	hat->ht_count--;
}

/* Shadows of u32 hold pfn + 1 and the mlocked bit (HMENT_SHADOW_MLOCKED). */
static bool hment_shadow_wide(const struct hment_index *idx)
{
	return idx->max_pfn >= HMENT_SHADOW_MLOCKED32;
}

static struct hment_htable *hment_htable_alloc(struct hment_index *idx)
{
	struct hment_htable *ht;

	if (hment_should_fail(&idx->fault, HMENT_FAULT_HTABLE)) {
		hment_stat_inc(idx, HMENT_STAT_FAULT_INJECTED);
		return NULL;
	}
	/* the shadow comes later, a block at a time */
	ht = kmem_cache_zalloc(hment_htable_cache, GFP_KERNEL);
	if (ht && hment_shadow_wide(idx))
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
	if (hment_shadow_wide(idx))
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
 * hment_htable_find_or_alloc - find or create the htable of a page-table page
 * @hat: address space
 * @level: 0, 1 or 2: its leaves map 4K, 2M or 1G
 * @va: any address the page table maps
 * @ptpfn: pfn of the page-table page
 *
 * Context: process context, the hat's owner (hment_hat.lock held); may
 * sleep.
 * Return: the htable; ERR_PTR(-EINVAL) for a bad level; ERR_PTR(-EEXIST)
 * when an htable for that range has another page-table page (the old table
 * was replaced: the caller retires it); or ERR_PTR(-ENOMEM).
 */
struct hment_htable *hment_htable_find_or_alloc(struct hment_hat *hat,
						unsigned int level,
						unsigned long va,
						unsigned long ptpfn)
{
	struct hment_index *idx = hat->idx;
	struct hment_htable *ht;

	lockdep_assert_held(&hat->lock);
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
	if (hment_htable_id_alloc(idx, ht)) {
		kmem_cache_free(hment_htable_cache, ht);
		return ERR_PTR(-ENOMEM);
	}
	hment_htable_hash_add(hat, ht);
	hment_stat_inc(idx, HMENT_STAT_HTABLES);
	return ht;
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_find_or_alloc);

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
 * @ht: the htable, already out of its hat's hash (or the hat is going)
 */
void hment_htable_free(struct hment_htable *ht)
{
	struct hment_index *idx = ht->ht_hat->idx;
	unsigned int i;

	if (test_bit(HMENT_HT_STALE, &ht->ht_flags))
		hment_stat_dec(idx, HMENT_STAT_STALE_HTABLES);
	hment_stat_dec(idx, HMENT_STAT_HTABLES);
	/* no hment names it, and it may outlive the index */
	hment_htable_id_free(idx, ht);
	/* counted now: the index may be gone when the blocks are freed */
	for (i = 0; i < HMENT_SHADOW_BLOCKS; i++)
		if (ht->ht_shadow[i])
			hment_stat_dec(idx, HMENT_STAT_SHADOW_BLOCKS);
	call_rcu(&ht->ht_rcu, hment_htable_free_rcu);
}

/**
 * hment_htable_try_free - free an htable once nothing in the index names it
 * @ht: the htable
 *
 * Context: the hat's owner (hment_hat.lock held).
 * Return: 0 when freed, -EBUSY while index entries still name it.
 */
int hment_htable_try_free(struct hment_htable *ht)
{
	lockdep_assert_held(&ht->ht_hat->lock);
	if (atomic_read(&ht->ht_valid_cnt))
		return -EBUSY;
	hment_htable_hash_del(ht->ht_hat, ht);
	hment_htable_free(ht);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_try_free);

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
