// SPDX-License-Identifier: GPL-2.0
/*
 * The index proper: recording, finding and removing the mappings of a pfn.
 *
 * A record is in one of three states:
 *   unmapped	no mapping; head is 0
 *   embedded	one mapping, held in head itself; share is 0
 *   listed	share hments on the record's list, each also hashed
 * A listed record whose last hment goes away becomes unmapped; it is not
 * demoted back to embedded when one hment is left, so a page that flips
 * between one and two mappings does not allocate each time.
 */
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "hment.h"
#include "internal.h"
#include "htable.h"
#include "hat.h"

/* (@ht, @entry) as an hment and an embedding record name it. */
static u32 hment_name(const struct hment_htable *ht, unsigned int entry)
{
	return ht->ht_id << HMENT_LEVEL_SHIFT | entry;
}

/*
 * Called first in every change to a record, under its list lock, so that
 * hment_verify() can tell whether the index held still while it looked:
 * on x86 stores are seen in order, so whoever sees any later store of the
 * change also sees this count go up.
 */
static void hment_changing(struct hment_index *idx)
{
	hment_stat_inc(idx, HMENT_STAT_CHANGES);
	/* the count before the change; pairs with hment_verify()'s smp_rmb() */
	smp_wmb();
}

/* Bookkeeping common to every new index entry (@ht, @entry) -> @pfn. */
static void hment_note_added(struct hment_index *idx, struct hment_page *pg,
			     struct hment_htable *ht, unsigned int entry,
			     unsigned long pfn)
{
	hment_htable_set_shadow(ht, entry, pfn);
	atomic_inc(&ht->ht_valid_cnt);
	if (hment_page_szc(pg) < ht->ht_level)
		WRITE_ONCE(pg->meta, (pg->meta & ~HMENT_PAGE_SZC_MASK) |
			   ht->ht_level);
	hment_stat_inc(idx, HMENT_STAT_MAPPINGS);
}

static void hment_note_removed(struct hment_index *idx, struct hment_page *pg,
			       struct hment_htable *ht, unsigned int entry)
{
	if (hment_htable_mlocked(ht, entry))
		atomic_dec(&ht->ht_lock_cnt);
	hment_htable_set_shadow(ht, entry, HMENT_NO_PFN);
	atomic_dec(&ht->ht_valid_cnt);
	hment_stat_dec(idx, HMENT_STAT_MAPPINGS);
	if (!hment_page_mapped(pg)) {
		WRITE_ONCE(pg->meta, 0);
		hment_stat_dec(idx, HMENT_STAT_PAGES_MAPPED);
	}
}

static void hment_embed(struct hment_index *idx, struct hment_page *pg,
			struct hment_htable *ht, unsigned int entry,
			unsigned long pfn)
{
	hment_changing(idx);
	WRITE_ONCE(pg->head, hment_name(ht, entry));
	hment_stat_inc(idx, HMENT_STAT_PAGES_MAPPED);
	hment_note_added(idx, pg, ht, entry, pfn);
}

/* Put a filled-in hment on its record's list and in the hash. */
static void hment_insert(struct hment_index *idx, struct hment_page *pg,
			 struct hment *hm, unsigned long pfn)
{
	u32 id = hment_id(hm), first = pg->head;

	hment_changing(idx);
	hm->hm_prev = 0;
	hm->hm_next = first;
	if (first)
		hment_ptr(idx, first)->hm_prev = id;
	/* share first: a record with a head and no share is embedded */
	WRITE_ONCE(pg->meta, pg->meta + BIT(HMENT_PAGE_SHARE_SHIFT));
	WRITE_ONCE(pg->head, id);
	hment_hash_insert(idx, hm, pfn);
	hment_stat_inc(idx, HMENT_STAT_LIVE_HMENTS);
}

/* Take an already unhashed hment off its record's list. */
static void hment_unlink(struct hment_index *idx, struct hment_page *pg,
			 struct hment *hm)
{
	hment_changing(idx);
	if (hm->hm_prev)
		hment_ptr(idx, hm->hm_prev)->hm_next = hm->hm_next;
	else
		WRITE_ONCE(pg->head, hm->hm_next);
	if (hm->hm_next)
		hment_ptr(idx, hm->hm_next)->hm_prev = hm->hm_prev;
	hm->hm_next = 0;
	hm->hm_prev = 0;
	WRITE_ONCE(pg->meta, pg->meta - BIT(HMENT_PAGE_SHARE_SHIFT));
	hment_stat_dec(idx, HMENT_STAT_LIVE_HMENTS);
	hment_note_removed(idx, pg, hment_ht(idx, hm), hment_entry(hm));
}

/* Move the embedded mapping into @hm; the record becomes listed. */
static void hment_promote(struct hment_index *idx, struct hment_page *pg,
			  unsigned long pfn, struct hment *hm)
{
	hment_changing(idx);
	/* the embedded mapping is named as the hment names it */
	hm->hm_ht_entry = pg->head;
	/* head names no hment yet, and the share is 0 until the insert */
	WRITE_ONCE(pg->head, 0);
	hment_insert(idx, pg, hm, pfn);
}

static void hment_run_unlocked_hook(struct hment_index *idx)
{
#if IS_ENABLED(CONFIG_KUNIT)
	if (idx->unlocked_hook)
		idx->unlocked_hook(idx, idx->unlocked_hook_data);
#endif
}

/*
 * hment_prepare_stock - make sure an hment is at hand for a new mapping, if
 * needed: the work of hment_prepare() on @pfn's record @pg, drawing on
 * @stock first.
 *
 * Four situations:
 *  - the page is unmapped: the mapping will be embedded, nothing needed;
 *  - the same (@ht, @entry) is already there, embedded or listed: a
 *    refault, nothing needed;
 *  - one other mapping is embedded: it is promoted into a first hment and
 *    a second one is needed for the new mapping;
 *  - the page is listed: one hment is needed.
 * An hment comes from the caller's stock when it has one, with the lock
 * held. Otherwise allocation happens with the list lock dropped (stealing
 * takes other list locks), and anything may change meanwhile (other
 * mappers add or remove mappings of this page), so after each allocation
 * the situation is looked at afresh; a spare hment that turns out not to
 * be needed is given back.
 *
 * Context: takes and returns with the mapping-list lock of @pfn held, but
 * drops it in between.
 * Return: the hment to pass to hment_assign(), NULL when none is needed,
 * or ERR_PTR(-ENOMEM) when none could be had even by stealing.
 */
static struct hment *hment_prepare_stock(struct hment_index *idx,
					 struct hment_page *pg,
					 struct hment_htable *ht,
					 unsigned int entry, unsigned long pfn,
					 struct hment_stock *stock)
	__must_hold(hment_page_lockp(idx, pfn))
{
	struct hment *hm = NULL;

	lockdep_assert_held(hment_page_lockp(idx, pfn));
	if (WARN_ON_ONCE(!pg))
		return ERR_PTR(-EINVAL);

	for (;;) {
		if (!hment_page_mapped(pg))
			goto none_needed;

		if (hment_page_embedded(pg)) {
			if (pg->head == hment_name(ht, entry))
				goto none_needed;
			if (hm) {
				hment_promote(idx, pg, pfn, hm);
				hm = NULL;
			}
		} else {
			/* exact under our lock: the shadow changes under it */
			if (hment_htable_shadow(ht, entry) == pfn)
				goto none_needed;
			if (hm)
				return hm;
		}

		hm = hment_stock_take(idx, stock);
		if (hm)
			continue;
		hment_page_unlock(idx, pfn);
		hment_run_unlocked_hook(idx);
		hm = hment_alloc(idx);
		hment_page_lock(idx, pfn);
		if (!hm)
			return ERR_PTR(-ENOMEM);
		continue;

none_needed:
		/* a spare goes back with the lock held: the reserve nests inside */
		if (hm)
			hment_free(idx, hm);
		return NULL;
	}
}

/**
 * hment_prepare - make sure an hment is at hand for a new mapping, if needed
 * @idx: index
 * @ht: page-table page of the new mapping
 * @entry: its entry
 * @pfn: the page it maps (its record must exist: hment_page_find_or_alloc())
 *
 * See hment_prepare_stock() for the four situations.
 *
 * Context: takes and returns with the mapping-list lock of @pfn held, but
 * drops it in between.
 * Return: the hment to pass to hment_assign(), NULL when none is needed,
 * or ERR_PTR(-ENOMEM) when none could be had even by stealing.
 */
struct hment *hment_prepare(struct hment_index *idx, struct hment_htable *ht,
			    unsigned int entry, unsigned long pfn)
	__must_hold(hment_page_lockp(idx, pfn))
{
	return hment_prepare_stock(idx, hment_page_find(idx, pfn), ht, entry, pfn,
				   NULL);
}
EXPORT_SYMBOL_IF_KUNIT(hment_prepare);

/* hment_assign() on @pfn's record @pg. */
static bool hment_assign_page(struct hment_index *idx, struct hment_page *pg,
			      struct hment_htable *ht, unsigned int entry,
			      unsigned long pfn, struct hment *hm)
{
	lockdep_assert_held(hment_page_lockp(idx, pfn));

	if (!hment_page_mapped(pg)) {
		WARN_ON_ONCE(hm);
		hment_embed(idx, pg, ht, entry, pfn);
		return true;
	}
	if (!hm) {
		/* hment_prepare() saw this very mapping already recorded */
		WARN_ON_ONCE(hment_page_embedded(pg) &&
			     pg->head != hment_name(ht, entry));
		return false;
	}
	if (WARN_ON_ONCE(hment_page_embedded(pg)))
		return false;

	hment_set(hm, ht, entry);
	hment_insert(idx, pg, hm, pfn);
	hment_note_added(idx, pg, ht, entry, pfn);
	return true;
}

/**
 * hment_assign - record a mapping that hment_prepare() made room for
 * @idx: index
 * @ht: page-table page of the mapping
 * @entry: its entry
 * @pfn: the page it maps
 * @hm: what hment_prepare() returned (NULL or an hment)
 *
 * Context: the mapping-list lock of @pfn is held and was not dropped since
 * hment_prepare().
 * Return: true if the mapping is new, false if it was already recorded.
 */
bool hment_assign(struct hment_index *idx, struct hment_htable *ht,
		  unsigned int entry, unsigned long pfn, struct hment *hm)
{
	return hment_assign_page(idx, hment_page_find(idx, pfn), ht, entry, pfn, hm);
}
EXPORT_SYMBOL_IF_KUNIT(hment_assign);

/*
 * A mapping that is not there is normal for a stale htable (it may have
 * been stolen); for any other it is a bug in the caller, reported once.
 */
static struct hment *hment_remove_missing(struct hment_index *idx,
					  struct hment_htable *ht,
					  unsigned int entry, unsigned long pfn)
{
	if (!test_bit(HMENT_HT_STALE, &ht->ht_flags)) {
		hment_stat_inc(idx, HMENT_STAT_REMOVE_MISSING);
		pr_warn_once("hment: removing unindexed mapping pfn %#lx ptpfn %#lx entry %u\n",
			     pfn, ht->ht_pfn, entry);
	}
	return ERR_PTR(-ENOENT);
}

/**
 * hment_remove - take one mapping of a page out of the index
 * @idx: index
 * @ht: page-table page of the mapping
 * @entry: its entry
 * @pfn: the page it maps
 *
 * An embedded mapping is cleared in place; a listed one is found through
 * the hash and unlinked from hash and list.
 *
 * Context: the mapping-list lock of @pfn is held.
 * Return: the hment to hment_free() once the lock is dropped, NULL when
 * the mapping was embedded, or ERR_PTR(-ENOENT) when it was not indexed.
 */
struct hment *hment_remove(struct hment_index *idx, struct hment_htable *ht,
			   unsigned int entry, unsigned long pfn)
{
	struct hment_page *pg = hment_page_find(idx, pfn);
	struct hment *hm;

	lockdep_assert_held(hment_page_lockp(idx, pfn));
	if (!pg || !hment_page_mapped(pg))
		return hment_remove_missing(idx, ht, entry, pfn);

	if (hment_page_embedded(pg)) {
		if (pg->head != hment_name(ht, entry))
			return hment_remove_missing(idx, ht, entry, pfn);
		hment_changing(idx);
		WRITE_ONCE(pg->head, 0);
		hment_note_removed(idx, pg, ht, entry);
		return NULL;
	}

	hment_changing(idx);
	hm = hment_hash_remove(idx, ht, entry, pfn);
	if (!hm)
		return hment_remove_missing(idx, ht, entry, pfn);
	hment_unlink(idx, pg, hm);
	return hm;
}
EXPORT_SYMBOL_IF_KUNIT(hment_remove);

/**
 * hment_walk - step through the mappings of a page
 * @idx: index
 * @pfn: the page
 * @ht: set to the page-table page of the mapping returned
 * @entry: set to its entry
 * @prev: NULL to start, else what the previous call returned
 *
 * Context: the mapping-list lock of @pfn is held throughout the walk.
 * Return: HMENT_EMBEDDED for an embedded mapping (a cookie, not an hment),
 * the next hment, or NULL when there are no more.
 */
struct hment *hment_walk(struct hment_index *idx, unsigned long pfn,
			 struct hment_htable **ht, unsigned int *entry,
			 struct hment *prev)
{
	struct hment_page *pg = hment_page_find(idx, pfn);
	struct hment *hm;

	lockdep_assert_held(hment_page_lockp(idx, pfn));
	if (!pg || !hment_page_mapped(pg))
		return NULL;

	if (hment_page_embedded(pg)) {
		if (prev)
			return NULL;
		*ht = hment_page_embed_ht(idx, pg);
		*entry = hment_page_embed_entry(pg);
		return HMENT_EMBEDDED;
	}

	if (WARN_ON_ONCE(prev == HMENT_EMBEDDED))
		return NULL;
	hm = hment_ptr(idx, prev ? prev->hm_next : pg->head);
	if (!hm)
		return NULL;
	*ht = hment_ht(idx, hm);
	*entry = hment_entry(hm);
	return hm;
}
EXPORT_SYMBOL_IF_KUNIT(hment_walk);

static bool hment_mapping_valid(struct hment_index *idx,
				struct hment_htable *ht, unsigned int entry,
				unsigned long pfn)
{
	unsigned long pages;

	if (entry >= HMENT_ENTRIES || ht->ht_level >= HMENT_LEVELS)
		return false;
	pages = HMENT_LEVEL_PAGES(ht->ht_level);
	return IS_ALIGNED(pfn, pages) && pfn < idx->max_pfn &&
	       pages <= idx->max_pfn - pfn;
}

/* Mark or unmark an indexed entry as mlocked; under its pfn's list lock. */
static void hment_mark_mlocked(struct hment_htable *ht, unsigned int entry,
			       bool mlocked)
{
	if (hment_htable_mlocked(ht, entry) == mlocked)
		return;
	hment_htable_set_mlocked(ht, entry, mlocked);
	if (mlocked)
		atomic_inc(&ht->ht_lock_cnt);
	else
		atomic_dec(&ht->ht_lock_cnt);
}

/**
 * hment_map_stock - record that entry @entry of @ht maps @pfn
 * @idx: index
 * @ht: page-table page; its level says whether @pfn leads a 2M or 1G group
 * @entry: entry within @ht
 * @pfn: mapped page, aligned to the leaf size
 * @stock: hments the caller set aside before taking its page-table lock,
 *	   used first; NULL for none
 * @mlocked: the leaf is in a VM_LOCKED VMA: marked so in the same critical
 *	     section that indexes it, so it is never stealable in between
 *
 * When no memory can be had, @ht is marked stale so that a later sync
 * records it again.
 *
 * One entry maps one page: while the index holds @entry of @ht for
 * another pfn, that must be unmapped first.
 *
 * Context: any; allocates with GFP_NOWAIT when @stock runs out and takes
 * spinlocks. Mappings of one htable are added by one caller at a time (its
 * hat's owner).
 * Return: 1 if recorded, 0 if it already was, -EINVAL for a bad mapping,
 * -ERANGE for a pfn the index does not cover, -EBUSY when the entry is
 * indexed for another pfn, -ENOMEM.
 */
int hment_map_stock(struct hment_index *idx, struct hment_htable *ht,
		    unsigned int entry, unsigned long pfn,
		    struct hment_stock *stock, bool mlocked)
{
	struct hment_page *pg;
	unsigned long old;
	struct hment *hm;
	bool added;

	if (pfn >= idx->max_pfn)
		return -ERANGE;
	if (!hment_mapping_valid(idx, ht, entry, pfn))
		return -EINVAL;
	old = hment_htable_shadow(ht, entry);
	if (old != HMENT_NO_PFN && old != pfn)
		return -EBUSY;
	pg = hment_page_find_stock(idx, pfn, GFP_NOWAIT, stock);
	if (IS_ERR(pg) || hment_htable_shadow_prepare(idx, ht, entry, GFP_NOWAIT))
		goto stale;

	hment_page_lock(idx, pfn);
	hm = hment_prepare_stock(idx, pg, ht, entry, pfn, stock);
	if (IS_ERR(hm)) {
		hment_page_unlock(idx, pfn);
		goto stale;
	}
	added = hment_assign_page(idx, pg, ht, entry, pfn, hm);
	hment_mark_mlocked(ht, entry, mlocked);
	hment_page_unlock(idx, pfn);
	return added;

stale:
	hment_htable_mark_stale(idx, ht);
	return -ENOMEM;
}
EXPORT_SYMBOL_IF_KUNIT(hment_map_stock);

/**
 * hment_map - record that entry @entry of @ht maps @pfn
 * @idx: index
 * @ht: page-table page
 * @entry: entry within @ht
 * @pfn: mapped page, aligned to the leaf size
 *
 * hment_map_stock() without a stock, for a leaf that is not mlocked.
 *
 * Return: as hment_map_stock().
 */
int hment_map(struct hment_index *idx, struct hment_htable *ht,
	      unsigned int entry, unsigned long pfn)
{
	return hment_map_stock(idx, ht, entry, pfn, NULL, false);
}
EXPORT_SYMBOL_IF_KUNIT(hment_map);

/**
 * hment_set_mlocked - note whether an indexed leaf is in a VM_LOCKED VMA
 * @idx: index
 * @ht: page-table page
 * @entry: entry within @ht
 * @pfn: the page the entry is indexed for
 * @mlocked: whether it is
 *
 * Under the pfn's list lock, and only while the entry is indexed for @pfn:
 * a removal (which clears the mark under that lock) cannot slip between
 * the check and the mark and leave @ht unstealable for good.
 *
 * Return: 0, -EINVAL for a bad entry, -ENOENT when the entry is not
 * indexed for @pfn.
 */
int hment_set_mlocked(struct hment_index *idx, struct hment_htable *ht,
		      unsigned int entry, unsigned long pfn, bool mlocked)
{
	int err = 0;

	if (entry >= HMENT_ENTRIES || pfn >= idx->max_pfn)
		return -EINVAL;
	/* the common case, nothing to change, without the lock */
	if (hment_htable_in_step(ht, entry, pfn, mlocked))
		return 0;
	hment_page_lock(idx, pfn);
	if (hment_htable_shadow(ht, entry) == pfn)
		hment_mark_mlocked(ht, entry, mlocked);
	else
		err = -ENOENT;
	hment_page_unlock(idx, pfn);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(hment_set_mlocked);

/**
 * hment_unmap - forget that entry @entry of @ht maps @pfn
 * @idx: index
 * @ht: page-table page
 * @entry: entry within @ht
 * @pfn: mapped page
 *
 * Return: 0, -EINVAL for a bad mapping, or -ENOENT if it was not indexed.
 */
int hment_unmap(struct hment_index *idx, struct hment_htable *ht,
		unsigned int entry, unsigned long pfn)
{
	struct hment *hm;

	if (!hment_mapping_valid(idx, ht, entry, pfn))
		return -EINVAL;
	hment_page_lock(idx, pfn);
	hm = hment_remove(idx, ht, entry, pfn);
	hment_page_unlock(idx, pfn);
	if (IS_ERR(hm))
		return PTR_ERR(hm);
	if (hm)
		hment_free(idx, hm);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hment_unmap);

/**
 * hment_unmap_entry - forget whatever entry @entry of @ht is indexed for
 * @idx: index
 * @ht: page-table page
 * @entry: entry within @ht
 *
 * The pfn comes from the htable's shadow, so the page table itself is not
 * read: it may already be gone.
 *
 * Return: 0, or -ENOENT when the index holds nothing for the entry.
 */
int hment_unmap_entry(struct hment_index *idx, struct hment_htable *ht,
		      unsigned int entry)
{
	unsigned long pfn;
	struct hment *hm;

	for (;;) {
		pfn = hment_htable_shadow(ht, entry);
		if (pfn == HMENT_NO_PFN)
			return -ENOENT;
		hment_page_lock(idx, pfn);
		/* Changes only under the lock of the pfn it names. */
		if (hment_htable_shadow(ht, entry) == pfn)
			break;
		hment_page_unlock(idx, pfn);
	}
	hm = hment_remove(idx, ht, entry, pfn);
	hment_page_unlock(idx, pfn);
	if (WARN_ON_ONCE(IS_ERR(hm)))
		return PTR_ERR(hm);
	if (hm)
		hment_free(idx, hm);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hment_unmap_entry);

/**
 * hment_htable_clear - forget every indexed entry of @ht
 * @idx: index
 * @ht: page-table page
 *
 * Return: how many entries were removed.
 */
unsigned int hment_htable_clear(struct hment_index *idx,
				struct hment_htable *ht)
{
	unsigned int entry, removed = 0;

	for (entry = 0; entry < HMENT_ENTRIES; entry++)
		if (hment_htable_shadow(ht, entry) != HMENT_NO_PFN)
			removed += !hment_unmap_entry(idx, ht, entry);
	return removed;
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_clear);

/*
 * The most distinct shared page-table entries one record is counted
 * through in one pass; past that, each other entry is looked for among
 * the mappings before it (quadratic, for a page mapped through more than
 * this many shared tables).
 */
#define HMENT_SHARED_KEYS	8

static bool hment_same_entry(struct hment_index *idx, struct hment *a,
			     struct hment_htable *ht, unsigned int entry)
{
	return hment_entry(a) == entry && hment_ht(idx, a)->ht_pfn == ht->ht_pfn;
}

/* Is (@ht's table, @entry) among the first @n keys already met? */
static bool hment_key_seen(const unsigned long *kpfn,
			   const unsigned int *kent, unsigned int n,
			   const struct hment_htable *ht, unsigned int entry)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (kpfn[i] == ht->ht_pfn && kent[i] == entry)
			return true;
	return false;
}

/*
 * How many page-table entries a record's mappings are, at @level (any
 * when negative); every count of the index comes through here.
 *
 * Two mms that share a hugetlb PMD table (huge_pmd_share()) each have an
 * htable of that one page-table page, so one entry is indexed once per
 * mm, which lookup lists, but the kernel counts it once. The walker
 * marks such htables HMENT_HT_SHARED: an (ht_pfn, entry) that a marked
 * htable holds counts once, whichever htables hold it (one sharer's
 * htable may not be marked yet: it was synced before the sharing began).
 *
 * Context: the record's mapping-list lock.
 */
static unsigned long hment_page_count(struct hment_index *idx,
				      struct hment_page *pg, int level)
{
	unsigned long kpfn[HMENT_SHARED_KEYS], cnt = 0;
	unsigned int kent[HMENT_SHARED_KEYS], nkeys = 0;
	struct hment *hm, *prev;
	struct hment_htable *ht;
	bool more = false;

	if (!hment_page_mapped(pg))
		return 0;
	if (hment_page_embedded(pg))
		return level < 0 || hment_page_embed_ht(idx, pg)->ht_level == level;
	/* shared tables hold 2M leaves only */
	if (level < 0 && !hment_page_szc(pg))
		return hment_page_share(pg);
	for (hm = hment_ptr(idx, pg->head); hm;
	     hm = hment_ptr(idx, hm->hm_next)) {
		ht = hment_ht(idx, hm);
		if (level >= 0 && ht->ht_level != level)
			continue;
		cnt++;
		if (!test_bit(HMENT_HT_SHARED, &ht->ht_flags))
			continue;
		if (hment_key_seen(kpfn, kent, nkeys, ht, hment_entry(hm)))
			continue;
		if (nkeys == HMENT_SHARED_KEYS) {
			more = true;
			continue;
		}
		kpfn[nkeys] = ht->ht_pfn;
		kent[nkeys++] = hment_entry(hm);
	}
	if (!nkeys)
		return cnt;
	/* each key once, and every mapping through no key */
	cnt = nkeys;
	for (hm = hment_ptr(idx, pg->head); hm;
	     hm = hment_ptr(idx, hm->hm_next)) {
		ht = hment_ht(idx, hm);
		if (level >= 0 && ht->ht_level != level)
			continue;
		if (hment_key_seen(kpfn, kent, nkeys, ht, hment_entry(hm)))
			continue;
		for (prev = hment_ptr(idx, pg->head); more && prev != hm;
		     prev = hment_ptr(idx, prev->hm_next))
			if (hment_same_entry(idx, prev, ht, hment_entry(hm)))
				break;
		cnt += !more || prev == hm;
	}
	return cnt;
}

/* Mappings of @leader at exactly @level, which cover @leader's group. */
static unsigned long hment_count_level(struct hment_index *idx,
				       unsigned long leader, unsigned int level)
{
	struct hment_page *pg = hment_page_find(idx, leader);
	unsigned long cnt;

	if (!pg || hment_page_szc(pg) < level)
		return 0;
	hment_page_lock(idx, leader);
	cnt = hment_page_count(idx, pg, level);
	hment_page_unlock(idx, leader);
	return cnt;
}

/* The mappings recorded against @pfn's own record @pg (NULL: none). */
static unsigned long hment_count_own(struct hment_index *idx,
				     struct hment_page *pg, unsigned long pfn)
{
	unsigned long cnt;

	if (!pg)
		return 0;
	hment_page_lock(idx, pfn);
	cnt = hment_page_count(idx, pg, -1);
	hment_page_unlock(idx, pfn);
	return cnt;
}

/**
 * hment_mapcnt - how many page-table entries map a page
 * @idx: index
 * @pfn: the page
 *
 * A 2M or 1G leaf is recorded once, against its group leader, but maps
 * every page of the group; so besides the page's own mappings, count the
 * leaf mappings of each leader above it. A page that is itself a leader
 * already counted its large mappings among its own.
 *
 * Return: the count, consistent per record but not across records.
 */
unsigned long hment_mapcnt(struct hment_index *idx, unsigned long pfn)
{
	unsigned long leader, cnt;
	unsigned int level;

	cnt = hment_count_own(idx, hment_page_find(idx, pfn), pfn);
	for (level = 1; level < HMENT_LEVELS; level++) {
		leader = round_down(pfn, HMENT_LEVEL_PAGES(level));
		if (leader != pfn)
			cnt += hment_count_level(idx, leader, level);
	}
	return cnt;
}
EXPORT_SYMBOL_IF_KUNIT(hment_mapcnt);

/**
 * hment_mapcnt_range - hment_mapcnt() of consecutive pages
 * @idx: index
 * @pfn: the first page
 * @n: how many
 * @cnt: set to the count of each
 *
 * What reading kpagecount needs: one record-chunk lookup per
 * HMENT_CHUNK_PFNS pages and one count of a leader's large mappings per
 * group, where hment_mapcnt() looks up a record for the page and for each
 * of its leaders. Pages beyond the index count 0.
 *
 * Context: takes each record's lock in turn, one at a time; does not
 * sleep. Consistent per record, not across records.
 */
void hment_mapcnt_range(struct hment_index *idx, unsigned long pfn,
			unsigned long n, u64 *cnt)
{
	unsigned long leader[HMENT_LEVELS], big[HMENT_LEVELS];
	unsigned long end = pfn + n, stop, lead;
	struct hment_page *chunk, *pg;
	unsigned int level;

	/* no leader is ULONG_MAX: pfns are below max_pfn */
	memset(leader, 0xff, sizeof(leader));
	while (pfn < end) {
		stop = min(end, round_down(pfn, HMENT_CHUNK_PFNS) +
				HMENT_CHUNK_PFNS);
		chunk = hment_page_chunk(idx, pfn);
		for (; pfn < stop; pfn++, cnt++) {
			pg = chunk ? &chunk[pfn & (HMENT_CHUNK_PFNS - 1)] : NULL;
			*cnt = hment_count_own(idx, pg, pfn);
			for (level = 1; level < HMENT_LEVELS; level++) {
				lead = round_down(pfn, HMENT_LEVEL_PAGES(level));
				if (lead == pfn)
					continue;
				if (lead != leader[level]) {
					leader[level] = lead;
					big[level] = hment_count_level(idx, lead,
								       level);
				}
				*cnt += big[level];
			}
		}
	}
}
EXPORT_SYMBOL_IF_KUNIT(hment_mapcnt_range);

/* @fn on the mappings of @leader at @level (any if -1), under its lock. */
static unsigned int hment_each_of(struct hment_index *idx,
				  unsigned long leader, int level,
				  hment_mapping_fn *fn, void *arg, bool *stop)
{
	struct hment_htable *ht;
	struct hment *hm = NULL;
	unsigned int entry, n = 0;

	if (!hment_page_find(idx, leader))
		return 0;
	hment_page_lock(idx, leader);
	while (!*stop && (hm = hment_walk(idx, leader, &ht, &entry, hm))) {
		if (level >= 0 && ht->ht_level != level)
			continue;
		n++;
		*stop = !fn(arg, ht, entry, leader);
	}
	hment_page_unlock(idx, leader);
	return n;
}

/**
 * hment_visit_mappings - visit every page-table entry that maps a page
 * @idx: index
 * @pfn: the page
 * @fn: called with each mapping's htable and entry, and the pfn it is
 *	recorded against (@pfn, or the leader of the 2M or 1G group a large
 *	leaf maps @pfn through); returns false to stop
 * @arg: passed to @fn
 *
 * The mappings hment_mapcnt() counts, visited with hment_walk(): the
 * page's own, then each group leader's at the leader's level.
 *
 * Context: takes each leader's mapping-list lock in turn, one at a time,
 * and calls @fn under it: @fn must not sleep. Consistent per record, not
 * across records.
 * Return: how many mappings @fn was called on.
 */
unsigned int hment_visit_mappings(struct hment_index *idx, unsigned long pfn,
				  hment_mapping_fn *fn, void *arg)
{
	unsigned int n, level;
	unsigned long leader;
	bool stop = false;

	n = hment_each_of(idx, pfn, -1, fn, arg, &stop);
	for (level = 1; level < HMENT_LEVELS && !stop; level++) {
		leader = round_down(pfn, HMENT_LEVEL_PAGES(level));
		if (leader != pfn)
			n += hment_each_of(idx, leader, level, fn, arg, &stop);
	}
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(hment_visit_mappings);

/**
 * hment_steal_from_page - take one stealable hment off a page's list
 * @idx: index
 * @pfn: the page
 *
 * The victim's htable is marked stale: the mapping still exists in the
 * page tables, only the index forgets it until the next sync. Unlike
 * illumos, no page-table entry is touched; they are not ours. It is marked
 * before the victim is unlinked: once its valid count reaches zero the
 * htable may be freed by its owner at any moment.
 *
 * Context: no mapping-list lock held.
 * Return: the hment, unlinked and ready for reuse, or NULL.
 */
struct hment *hment_steal_from_page(struct hment_index *idx, unsigned long pfn)
{
	struct hment_page *pg = hment_page_find(idx, pfn);
	struct hment *hm, *victim = NULL;
	struct hment_htable *ht;

	hment_page_lock(idx, pfn);
	if (pg && hment_page_mapped(pg) && !hment_page_embedded(pg)) {
		for (hm = hment_ptr(idx, pg->head); hm;
		     hm = hment_ptr(idx, hm->hm_next)) {
			if (hment_htable_stealable(hment_ht(idx, hm))) {
				victim = hm;
				break;
			}
		}
	}
	if (victim) {
		ht = hment_ht(idx, victim);
		hment_htable_mark_stale(idx, ht);
		hment_changing(idx);
		hm = hment_hash_remove(idx, ht, hment_entry(victim), pfn);
		WARN_ON_ONCE(hm != victim);
		hment_unlink(idx, pg, victim);
#if IS_ENABLED(CONFIG_KUNIT)
		if (idx->steal_hook)
			idx->steal_hook(idx, ht);
#endif
	}
	hment_page_unlock(idx, pfn);
	return victim;
}

/**
 * hment_locks_alloc - an array of striped spinlocks
 * @n: how many
 * @class: their lockdep class: one per kind of lock, so that lockdep tells
 *	   a list lock from a bucket lock although one function made both
 *
 * Return: the locks, or NULL.
 */
spinlock_t *hment_locks_alloc(unsigned int n, struct lock_class_key *class)
{
	spinlock_t *locks = kcalloc(n, sizeof(*locks), GFP_KERNEL);
	unsigned int i;

	for (i = 0; locks && i < n; i++) {
		spin_lock_init(&locks[i]);
		lockdep_set_class(&locks[i], class);
	}
	return locks;
}

/* Refuse a shape or knob past its bound, naming it. */
static int hment_param_bound(const char *name, unsigned int val,
			     unsigned int max)
{
	if (val <= max)
		return 0;
	pr_warn("hment: %s=%u is above its bound %u\n", name, val, max);
	return -ERANGE;
}

/*
 * Every shape has a bound tied to the machine, so that no parameter can
 * make the index allocate more than a small part of RAM or try an
 * allocation bound to fail:
 *  - locks: one per 16 pages is more than can help, and 65536 lockdep-
 *    sized spinlocks are the most one kcalloc() gives;
 *  - hash buckets: one per page of RAM (the default), 4 bytes a page;
 *  - reserve: see hment_reserve_max();
 *  - fault injection: the ranges of its counters.
 */
static int hment_params_check(const struct hment_params *p)
{
	unsigned long locks, buckets = totalram_pages();

	/* one lock per 16 pfns, within [256, HMENT_MAX_LOCKS] */
	locks = p->max_pfn > 256 * 16 ? roundup_pow_of_two(p->max_pfn) / 16
				      : 256;
	if (locks > HMENT_MAX_LOCKS)
		locks = HMENT_MAX_LOCKS;
	/* one bucket per page of RAM, at least 4096, at most 2^30 */
	if (buckets < 4096)
		buckets = 4096;
	buckets = buckets > BIT(30) ? BIT(30) : roundup_pow_of_two(buckets);

	if (!p->max_pfn ||
	    (p->hash_buckets && !is_power_of_2(p->hash_buckets)) ||
	    !is_power_of_2(p->mlist_locks) || !is_power_of_2(p->hash_locks))
		return -EINVAL;
	return hment_param_bound("mlist_locks", p->mlist_locks, locks) ?:
	       hment_param_bound("hash_locks", p->hash_locks, locks) ?:
	       hment_param_bound("hash_buckets", p->hash_buckets, buckets) ?:
	       hment_param_bound("reserve_amount", p->reserve_amount,
				 hment_reserve_max()) ?:
	       hment_param_bound("fail_nth", p->fail_nth, INT_MAX) ?:
	       hment_param_bound("fail_every", p->fail_every, INT_MAX) ?:
	       hment_param_bound("fail_sites", p->fail_sites,
				 HMENT_FAULT_ALL_SITES);
}

/**
 * hment_index_create - build an empty index
 * @params: its shape; hash_buckets 0 sizes the hash by its contents
 *
 * The index has no address space yet: the kernel's comes from the hat
 * layer, hment_hats_init().
 *
 * Context: process context.
 * Return: the index, ERR_PTR(-EINVAL) for counts that are not powers of
 * two, ERR_PTR(-ERANGE) for a shape past its bound (see
 * hment_params_check()), or ERR_PTR(-ENOMEM).
 */
struct hment_index *hment_index_create(const struct hment_params *params)
{
	struct hment_params p = *params;
	struct hment_index *idx;
	int err;

	err = hment_params_check(&p);
	if (err)
		return ERR_PTR(err);

	idx = kzalloc(sizeof(*idx), GFP_KERNEL);
	if (!idx)
		return ERR_PTR(-ENOMEM);
	hment_ids_init(&idx->hm_chunks, U32_MAX >> HMENT_HCHUNK_SHIFT);
	hment_ids_init(&idx->ht_ids, HMENT_HTID_MAX);
	spin_lock_init(&idx->chunk_lock);
	spin_lock_init(&idx->reserve_lock);
	idx->reserve_amount = p.reserve_amount;
	mutex_init(&idx->hats_lock);
	mutex_init(&idx->freeze_lock);
	mutex_init(&idx->sync_lock);
	INIT_LIST_HEAD(&idx->hats);
	INIT_WORK(&idx->reap_work, hment_hat_reap_work);
	atomic_set(&idx->fault.nth, p.fail_nth);
	atomic_set(&idx->fault.every, p.fail_every);
	atomic_set(&idx->fault.sites, p.fail_sites);

	err = -ENOMEM;
	if (hment_should_fail(&idx->fault, HMENT_FAULT_INDEX))
		goto free_idx;
	idx->stats = alloc_percpu(struct hment_stats);
	if (!idx->stats)
		goto free_idx;
	err = hment_hash_init(idx, &p);
	if (err)
		goto free_stats;
	err = hment_pages_init(idx, &p);
	if (err)
		goto free_hash;
	return idx;

free_hash:
	hment_hash_destroy(idx);
free_stats:
	free_percpu(idx->stats);
free_idx:
	kfree(idx);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_IF_KUNIT(hment_index_create);

/**
 * hment_index_destroy - drop every mapping, address space and allocation
 * @idx: index; nobody else may be using it
 *
 * Every mapping belongs to some hat's htable, so destroying the hats (and
 * with them their notifiers) empties the index.
 */
void hment_index_destroy(struct hment_index *idx)
{
	struct hment_hat *hat, *next;

	mutex_lock(&idx->sync_lock);
	list_for_each_entry_safe(hat, next, &idx->hats, node)
		hment_hat_destroy(hat);
	mutex_unlock(&idx->sync_lock);
	/* no notifier is left to queue it again */
	cancel_work_sync(&idx->reap_work);
	WARN_ON_ONCE(hment_stat_read(idx, HMENT_STAT_MAPPINGS));
	hment_reserve_drain(idx);
	/* every hment and htable gone: every id is back */
	hment_ids_destroy(&idx->hm_chunks);
	hment_ids_destroy(&idx->ht_ids);
	hment_pages_destroy(idx);
	hment_hash_destroy(idx);
	free_percpu(idx->stats);
	kfree(idx);
}
EXPORT_SYMBOL_IF_KUNIT(hment_index_destroy);
