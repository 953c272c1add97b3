// SPDX-License-Identifier: GPL-2.0
/*
 * The walker: reads a process's live x86 page tables and brings the index
 * in step with them.
 *
 * One function per level, as mm/mincore.c does it, except that a module
 * cannot use walk_page_range() or pmd_trans_unstable(): each upper entry
 * is read once without a lock and that one value decides none, leaf or
 * table. A PTE table is then locked as the kernel locks it (on 6.12, with
 * the RCU protocol of __pte_offset_map_lock(), since tables can be freed
 * under mmap_lock held for read), and a 2M/1G leaf is read again under
 * its PMD/PUD lock; when the entry changed meanwhile, it is decided again.
 * Shareable hugetlb VMAs are walked with their file's i_mmap_rwsem held.
 * Only user address spaces are walked, never the kernel's.
 *
 * Only what /proc/kpagecount counts is recorded: present leaves of pages
 * with an online struct page, not special PTEs, not the zero pages, not in
 * VM_PFNMAP or VM_IO mappings. A 2M or 1G leaf is one mapping of its group
 * leader (hment_mapcnt() spreads it over the subpages).
 *
 * A sync reconciles: an entry found mapping the pfn the index holds is
 * left alone; a changed one is replaced; an entry the index holds but the
 * walk did not find is removed, and so is every htable the walk did not
 * find at all. A second sync of an unchanged process changes nothing.
 */
#include <linux/hugetlb_inline.h>
#include <linux/ktime.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/sched/mm.h>
#include <linux/swap.h>
#include <linux/swapops.h>

#include "compat.h"
#include "hment.h"
#include "htable.h"
#include "hat.h"
#include "inject.h"
#include "walker.h"

/* What a walk does with the leaves it reads. */
enum hment_sync_mode {
	HMENT_SYNC_RECORD,	/* bring the index in step */
	HMENT_SYNC_READ,	/* count them only: the raw walk */
	HMENT_SYNC_EXPECT,	/* count those a first sync will need hments for */
};

struct hment_sync {
	struct hment_hat *hat;
	struct hment_index *idx;
	struct mm_struct *mm;		/* whose page tables, for their locks */
	struct vm_area_struct *vma;	/* being walked */
	struct hment_sync_stats *st;
	struct hment_stock *stock;	/* filled before each PTE lock */
	bool record;			/* false: read and count only */
	bool expect;			/* and count into &st->expected */
	bool shareable;			/* @vma may share PMD tables */
	bool pmd_shared;		/* the PMD table walked is shared */
};

/* Does /proc/kpagecount count this pfn as mapped? */
static bool hment_counted_pfn(unsigned long pfn)
{
	return !is_zero_pfn(pfn) && pfn_to_online_page(pfn);
}

static bool hment_counted_pte(pte_t pte)
{
	return pte_present(pte) && !pte_special(pte) &&
	       hment_counted_pfn(pte_pfn(pte));
}

/*
 * The huge zero page is mapped only into private anonymous memory, where
 * every other PMD leaf is an anonymous THP; its pfn is not exported.
 */
static bool hment_counted_leaf(struct hment_sync *w, unsigned long pfn)
{
	struct page *page;

	if (!hment_counted_pfn(pfn))
		return false;
	if (!w->vma || !vma_is_anonymous(w->vma))
		return true;
	page = pfn_to_page(pfn);
	return PageAnon(page);
}

/*
 * Will a 4K leaf of @pfn need an hment? When the kernel counts more than
 * one mapping of the page (read without a lock: an estimate). Its own
 * _mapcount, not page_mapcount(), which also asserts on the folio: a
 * large folio freed meanwhile would trip that on CONFIG_DEBUG_VM (6.12).
 */
static bool hment_page_shared(unsigned long pfn)
{
	return atomic_read(&pfn_to_page(pfn)->_mapcount) > 0;
}

static bool hment_vma_locked(struct hment_sync *w)
{
	return w->vma && (w->vma->vm_flags & VM_LOCKED);
}

/*
 * The htable for a page-table page; if the range had another page-table
 * page before, the old one is gone: forget its entries first.
 */
static struct hment_htable *hment_walk_htable(struct hment_sync *w,
					      unsigned int level,
					      unsigned long addr,
					      unsigned long ptpfn)
{
	struct hment_htable *ht;

	ht = hment_htable_find_or_alloc(w->hat, level, addr, ptpfn);
	if (PTR_ERR_OR_ZERO(ht) == -EEXIST) {
		ht = hment_htable_lookup(w->hat, level, addr);
		w->st->removed += hment_htable_clear(w->idx, ht);
		if (!hment_htable_try_free(ht))
			ht = hment_htable_find_or_alloc(w->hat, level, addr, ptpfn);
		else
			ht = ERR_PTR(-EBUSY);
	}
	if (IS_ERR(ht)) {
		w->st->errors++;
		return NULL;
	}
	/* The first visit of this sync starts the table afresh. */
	if (ht->ht_gen != w->hat->gen) {
		ht->ht_gen = w->hat->gen;
		bitmap_zero(ht->ht_seen, HMENT_ENTRIES);
		hment_htable_clear_stale(w->idx, ht);
	}
	return ht;
}

/*
 * Bring one entry in step. Returns true when it added a mapping, which the
 * caller may have to undo if an invalidation raced with it.
 */
static bool hment_walk_record(struct hment_sync *w, struct hment_htable *ht,
			      unsigned int entry, unsigned long pfn,
			      bool locked)
{
	unsigned long old = hment_htable_shadow(ht, entry);
	int ret;

	__set_bit(entry, ht->ht_seen);
	if (old == pfn) {
		/* in step: the lock only when the mark must change */
		if (hment_htable_mlocked(ht, entry) != locked)
			hment_set_mlocked(w->idx, ht, entry, pfn, locked);
		return false;
	}
	if (old != HMENT_NO_PFN && !hment_unmap_entry(w->idx, ht, entry))
		w->st->removed++;

	/* marked mlocked as it is indexed, so that it is never stolen */
	ret = hment_map_stock(w->idx, ht, entry, pfn, w->stock, locked);
	if (ret == 1) {
		w->st->added++;
		return true;
	}
	if (ret < 0) {
		w->st->errors++;
		hment_htable_mark_stale(w->idx, ht);
	}
	return false;
}

/*
 * A pass over a table, or over one large leaf, races with the notifier:
 * what it added while an invalidation of an overlapping range ran may be
 * gone already. Such a pass is undone and tried again a few times (the
 * racing change is usually one fault); after that the table is left stale
 * for the next sync. A pass also starts again from the upper entry when
 * that entry changed before its table was locked.
 */
#define HMENT_WALK_TRIES	4

enum hment_pass {
	HMENT_PASS_DONE,	/* in step, or nothing to do */
	HMENT_PASS_RACED,	/* an invalidation overlapped: undone */
	HMENT_PASS_CHANGED,	/* the upper entry changed: read it again */
};

/* Take back what this pass added: an invalidation may have missed it. */
static void hment_walk_undo(struct hment_sync *w, struct hment_htable *ht,
			    const unsigned long *added)
{
	unsigned int entry;

	for_each_set_bit(entry, added, HMENT_ENTRIES) {
		if (!hment_unmap_entry(w->idx, ht, entry))
			w->st->added--;
		__clear_bit(entry, ht->ht_seen);
	}
}

/*
 * After a pass that did not finish: try again, or give up and leave the
 * table stale.
 */
static bool hment_walk_again(struct hment_sync *w, struct hment_htable *ht,
			     enum hment_pass pass, unsigned int *tries)
{
	if (pass == HMENT_PASS_DONE)
		return false;
	if (++*tries >= HMENT_WALK_TRIES) {
		if (ht)
			hment_htable_mark_stale(w->idx, ht);
		return false;
	}
	w->st->retries++;
	cond_resched();
	return true;
}

static void hment_walk_leaf_record(struct hment_sync *w,
				   struct hment_htable *ht, unsigned int entry,
				   unsigned long pfn, unsigned long *added)
{
	if (hment_counted_leaf(w, pfn) &&
	    hment_walk_record(w, ht, entry, pfn, hment_vma_locked(w)))
		__set_bit(entry, added);
}

/*
 * A 2M or 1G leaf, one entry of a PMD or PUD table. The cookie comes
 * first; then the leaf is read, and recorded, under the lock the kernel
 * changes it under (pmd_lock()/pud_lock()): a leaf zapped, split or
 * migrated before that is not seen, and one changed after it is in the
 * cookie's range. The lock is also what keeps the page's flags stable
 * while they are read.
 */
static enum hment_pass hment_walk_leaf(struct hment_sync *w,
				       unsigned int level, void *entryp,
				       unsigned long addr, unsigned long ptpfn,
				       struct hment_htable **htp)
{
	unsigned long size = PAGE_SIZE << (level * HMENT_LEVEL_SHIFT);
	unsigned int entry = (addr >> (PAGE_SHIFT + level * HMENT_LEVEL_SHIFT)) %
			     HMENT_ENTRIES;
	DECLARE_BITMAP(added, HMENT_ENTRIES);
	enum hment_pass pass = HMENT_PASS_DONE;
	struct hment_htable *ht;
	unsigned long cookie;
	spinlock_t *ptl;	/* the PMD or PUD table's lock */
	pmd_t pmdval;
	pud_t pudval;

	addr &= ~(size - 1);
	ht = hment_walk_htable(w, level, addr, ptpfn);
	*htp = ht;
	if (!ht)
		return HMENT_PASS_DONE;
	/* its entries count once with the other sharers' (hment_mapcnt()) */
	if (level == 1 &&
	    test_bit(HMENT_HT_SHARED, &ht->ht_flags) != w->pmd_shared)
		assign_bit(HMENT_HT_SHARED, &ht->ht_flags, w->pmd_shared);
	atomic_inc(&ht->ht_busy);
	bitmap_zero(added, HMENT_ENTRIES);
	cookie = hment_hat_inv_begin(w->hat, addr, addr + size);
	if (level == 1) {
		ptl = pmd_lock(w->mm, entryp);
		pmdval = *(pmd_t *)entryp;
		if (pmd_present(pmdval) && pmd_leaf(pmdval))
			hment_walk_leaf_record(w, ht, entry, pmd_pfn(pmdval),
					       added);
		else
			pass = HMENT_PASS_CHANGED;
	} else {
		ptl = pud_lock(w->mm, entryp);
		pudval = *(pud_t *)entryp;
		if (pud_present(pudval) && pud_leaf(pudval))
			hment_walk_leaf_record(w, ht, entry, pud_pfn(pudval),
					       added);
		else
			pass = HMENT_PASS_CHANGED;
	}
	spin_unlock(ptl);
	if (pass == HMENT_PASS_DONE)
		w->st->entries++;
	if (!hment_hat_inv_unchanged(w->hat, cookie, addr, addr + size)) {
		hment_walk_undo(w, ht, added);
		if (pass == HMENT_PASS_DONE)
			pass = HMENT_PASS_RACED;
	}
	atomic_dec(&ht->ht_busy);
	return pass;
}

/*
 * The raw walk's view of a leaf: counted from the value read without a
 * lock, as the benchmark's baseline always did.
 */
static void hment_walk_leaf_count(struct hment_sync *w, unsigned long pfn)
{
	w->st->entries++;
	if (!hment_counted_leaf(w, pfn))
		return;
	w->st->leaves++;
	/* few and large: expected to be shared, whether they are or not */
	if (w->expect)
		w->st->expected++;
}

static void hment_walk_ptes(struct hment_sync *w, struct hment_htable *ht,
			    pte_t *ptep, unsigned long addr, unsigned long end,
			    unsigned long *added)
{
	unsigned long pfn, entries = 0, leaves = 0, expected = 0;
	bool locked = hment_vma_locked(w);
	unsigned int entry;
	pte_t pte;

	for (; addr != end; ptep++, addr += PAGE_SIZE) {
		pte = ptep_get(ptep);
		entries++;
		entry = pte_index(addr);
		pfn = pte_pfn(pte);
		/*
		 * In step, as most entries are at a re-sync: nothing to lock,
		 * and the pfn was found counted when it was indexed (a page
		 * goes offline only once unmapped).
		 */
		if (ht && pte_present(pte) && !pte_special(pte) &&
		    hment_htable_in_step(ht, entry, pfn, locked)) {
			__set_bit(entry, ht->ht_seen);
			continue;
		}
		if (!hment_counted_pte(pte))
			continue;
		if (!ht) {
			leaves++;
			if (w->expect && hment_page_shared(pfn))
				expected++;
			continue;
		}
		if (hment_walk_record(w, ht, entry, pfn, locked))
			__set_bit(entry, added);
	}
	w->st->entries += entries;
	w->st->leaves += leaves;
	w->st->expected += expected;
}

/*
 * Lock the PTE table a PMD points to, if it still is the table of @ptpfn,
 * and bring its entries of [addr, end) in step.
 *
 * From 6.5 on, a PTE table can be freed while mmap_lock is held for read
 * (retract_page_tables() of khugepaged and MADV_COLLAPSE hold no mmap
 * lock, and free it with pte_free_defer()), and pte_offset_map_lock() is
 * out of line and unexported. Its steps are redone from 6.12's
 * __pte_offset_map() and __pte_offset_map_lock() (mm/pgtable-generic.c):
 * inside RCU, read the PMD with pmdp_get_lockless(), classify it, lock the
 * table it names, check with pmd_same() that it still names it, and start
 * over when it does not. Left out: pmd_clear_bad() on a bad entry (a
 * reader leaves that to the kernel), and pmdp_get_lockless_start()/_end(),
 * which disable interrupts only where a PMD is read in two halves
 * (CONFIG_GUP_GET_PXX_LOW_HIGH, 32-bit). Added: a table other than
 * @ptpfn's is not walked, so that the caller reads the PMD again.
 *
 * Before 6.5 (6.1), tables are freed only under mmap_lock held for write,
 * so a PMD that names a table keeps naming it while we hold it for read:
 * that PMD is classified as pmd_trans_unstable() does (its
 * pmd_none_or_trans_huge_or_clear_bad() calls the unexported
 * pmd_clear_bad()) and then locked as pte_offset_map_lock() does, through
 * the value that was checked.
 *
 * Return: false when the PMD no longer names the table of @ptpfn.
 */
static bool hment_walk_ptes_locked(struct hment_sync *w,
				   struct hment_htable *ht, pmd_t *pmdp,
				   unsigned long ptpfn, unsigned long addr,
				   unsigned long end, unsigned long *added)
{
	spinlock_t *ptl;	/* the PTE table's lock */
	pte_t *ptep;
	pmd_t pmdval;
#ifdef HMENT_PTE_MAP_LOCK_OUT_OF_LINE
again:
	rcu_read_lock();
	pmdval = pmdp_get_lockless(pmdp);
	if (unlikely(pmd_none(pmdval) || is_pmd_migration_entry(pmdval) ||
		     pmd_trans_huge(pmdval) || pmd_devmap(pmdval) ||
		     pmd_bad(pmdval) || pmd_pfn(pmdval) != ptpfn)) {
		rcu_read_unlock();
		return false;
	}
	ptl = pte_lockptr(w->mm, &pmdval);
	spin_lock(ptl);
	if (unlikely(!pmd_same(pmdval, pmdp_get_lockless(pmdp)))) {
		spin_unlock(ptl);
		rcu_read_unlock();
		goto again;
	}
	ptep = __pte_map(&pmdval, addr);
#else
	pmdval = pmd_read_atomic(pmdp);
	barrier();
	if (pmd_none(pmdval) || pmd_trans_huge(pmdval) ||
	    !pmd_present(pmdval) || pmd_bad(pmdval) ||
	    pmd_pfn(pmdval) != ptpfn)
		return false;
	ptl = pte_lockptr(w->mm, &pmdval);
	spin_lock(ptl);
	if (unlikely(!pmd_same(pmdval, READ_ONCE(*pmdp)))) {
		spin_unlock(ptl);
		return false;
	}
	ptep = pte_offset_map(&pmdval, addr);
#endif
	hment_walk_ptes(w, ht, ptep, addr, end, added);
	pte_unmap_unlock(ptep, ptl);
	return true;
}

/* A PMD read without a lock, as the kernel's lockless walkers read it. */
static pmd_t hment_pmd_read(pmd_t *pmdp)
{
#ifdef HMENT_PTE_MAP_LOCK_OUT_OF_LINE
	return pmdp_get_lockless(pmdp);
#else
	return pmd_read_atomic(pmdp);
#endif
}

/*
 * One pass over the PTEs of [addr, end) in the table of @ptpfn. Its htable
 * is found (or made, which may sleep) before the table is locked; the
 * lock then checks that the PMD still names that table.
 */
static enum hment_pass hment_walk_pte_table(struct hment_sync *w,
					    pmd_t *pmdp, unsigned long ptpfn,
					    unsigned long addr,
					    unsigned long end,
					    struct hment_htable **htp)
{
	DECLARE_BITMAP(added, HMENT_ENTRIES);
	enum hment_pass pass = HMENT_PASS_DONE;
	struct hment_htable *ht = NULL;
	unsigned long cookie = 0;

	if (w->record) {
		ht = hment_walk_htable(w, 0, addr, ptpfn);
		*htp = ht;
		if (!ht)
			return HMENT_PASS_DONE;
		atomic_inc(&ht->ht_busy);
		bitmap_zero(added, HMENT_ENTRIES);
		/* what the pass may need, before its lock */
		hment_stock_fill(w->idx, w->stock);
		cookie = hment_hat_inv_begin(w->hat, addr, end);
	}
	hment_inject(HMENT_INJECT_PTES, addr, end);
	if (!hment_walk_ptes_locked(w, ht, pmdp, ptpfn, addr, end, added)) {
		pass = HMENT_PASS_CHANGED;
	} else if (ht && !hment_hat_inv_unchanged(w->hat, cookie, addr, end)) {
		hment_walk_undo(w, ht, added);
		pass = HMENT_PASS_RACED;
	}
	if (ht)
		atomic_dec(&ht->ht_busy);
	return pass;
}

/*
 * One PMD entry: none, a leaf or a PTE table, decided from one value read
 * without a lock, and decided again from the top whenever the pass finds
 * that the entry changed.
 */
static void hment_walk_pmd(struct hment_sync *w, pmd_t *pmdp,
			   unsigned long pmd_ptpfn, unsigned long addr,
			   unsigned long end)
{
	struct hment_htable *ht = NULL;
	unsigned int tries = 0;
	enum hment_pass pass;
	pmd_t pmdval;

	do {
		pmdval = hment_pmd_read(pmdp);
		/* none, or a swap or migration entry: nothing mapped */
		if (pmd_none(pmdval) || !pmd_present(pmdval))
			return;
		if (!pmd_leaf(pmdval) && pmd_bad(pmdval))
			return;
		if (!pmd_leaf(pmdval)) {
			w->st->tables++;
			pass = hment_walk_pte_table(w, pmdp, pmd_pfn(pmdval),
						    addr, end, &ht);
			cond_resched();
		} else if (w->record) {
			hment_inject(HMENT_INJECT_LEAF, addr, end);
			pass = hment_walk_leaf(w, 1, pmdp, addr, pmd_ptpfn,
					       &ht);
		} else {
			hment_walk_leaf_count(w, pmd_pfn(pmdval));
			return;
		}
	} while (hment_walk_again(w, ht, pass, &tries));
}

static void hment_walk_pmd_range(struct hment_sync *w, pud_t *pudp,
				 pud_t pudval, unsigned long addr,
				 unsigned long end)
{
	pmd_t *pmdp = pmd_offset(&pudval, addr);
	unsigned long next;

	w->st->tables++;
	hment_inject(HMENT_INJECT_TABLE, addr, end);
	w->pmd_shared = w->shareable &&
			hment_pmd_table_shared(pfn_to_page(pud_pfn(pudval)));
	for (; addr != end; pmdp++, addr = next) {
		next = pmd_addr_end(addr, end);
		hment_walk_pmd(w, pmdp, pud_pfn(pudval), addr, next);
	}
}

/* One PUD entry: none, a 1G leaf or a PMD table, like hment_walk_pmd(). */
static void hment_walk_pud(struct hment_sync *w, pud_t *pudp,
			   unsigned long pud_ptpfn, unsigned long addr,
			   unsigned long end)
{
	struct hment_htable *ht = NULL;
	unsigned int tries = 0;
	enum hment_pass pass;
	pud_t pudval;

	do {
		pudval = READ_ONCE(*pudp);
		if (pud_none(pudval) || !pud_present(pudval))
			return;
		/* PMD tables are freed only under mmap_lock for write */
		if (!pud_leaf(pudval) && !pud_bad(pudval))
			hment_walk_pmd_range(w, pudp, pudval, addr, end);
		if (!pud_leaf(pudval))
			return;
		if (!w->record) {
			hment_walk_leaf_count(w, pud_pfn(pudval));
			return;
		}
		hment_inject(HMENT_INJECT_LEAF, addr, end);
		pass = hment_walk_leaf(w, 2, pudp, addr, pud_ptpfn, &ht);
	} while (hment_walk_again(w, ht, pass, &tries));
}

static void hment_walk_pud_range(struct hment_sync *w, p4d_t *p4dp,
				 p4d_t p4dval, unsigned long addr,
				 unsigned long end)
{
	pud_t *pudp = pud_offset(&p4dval, addr);
	unsigned long next;

	w->st->tables++;
	for (; addr != end; pudp++, addr = next) {
		next = pud_addr_end(addr, end);
		hment_walk_pud(w, pudp, p4d_pfn(p4dval), addr, next);
	}
}

static void hment_walk_p4d_range(struct hment_sync *w, pgd_t *pgdp,
				 unsigned long addr, unsigned long end)
{
	p4d_t *p4dp = p4d_offset(pgdp, addr);
	unsigned long next;
	p4d_t p4dval;

	for (; addr != end; p4dp++, addr = next) {
		next = p4d_addr_end(addr, end);
		p4dval = READ_ONCE(*p4dp);
		if (p4d_none(p4dval) || p4d_bad(p4dval))
			continue;
		hment_walk_pud_range(w, p4dp, p4dval, addr, next);
	}
}

static void hment_walk_range(struct hment_sync *w, pgd_t *pgdp,
			     unsigned long addr, unsigned long end)
{
	unsigned long next;
	pgd_t pgdval;

	for (; addr != end; pgdp++, addr = next) {
		next = pgd_addr_end(addr, end);
		pgdval = READ_ONCE(*pgdp);
		if (pgd_none(pgdval) || pgd_bad(pgdval))
			continue;
		hment_walk_p4d_range(w, pgdp, addr, next);
	}
}

/*
 * Entries of a visited htable that the index holds but this sync did not
 * find. Most entries are both seen and held, or neither: a shadow block
 * never allocated holds nothing, and the shadow is read before anything is
 * locked.
 */
static void hment_sync_forget_unseen(struct hment_sync *w,
				     struct hment_htable *ht)
{
	unsigned int blk, entry, end;

	for (blk = 0; blk < HMENT_SHADOW_BLOCKS; blk++) {
		if (!READ_ONCE(ht->ht_shadow[blk]))
			continue;
		entry = blk * HMENT_SHADOW_ENTRIES;
		end = entry + HMENT_SHADOW_ENTRIES;
		for_each_clear_bit_from(entry, ht->ht_seen, end)
			if (hment_htable_shadow(ht, entry) != HMENT_NO_PFN &&
			    !hment_unmap_entry(w->idx, ht, entry))
				w->st->removed++;
	}
}

/*
 * Entries the index holds but this sync did not find are gone, and so are
 * htables it did not visit at all.
 */
static void hment_sync_reconcile(struct hment_sync *w)
{
	struct hment_htable_iter it;
	struct hment_htable *ht;

	for (ht = hment_htable_first(w->hat, &it); ht;
	     ht = hment_htable_next(&it)) {
		if (ht->ht_gen != w->hat->gen) {
			w->st->removed += hment_htable_clear(w->idx, ht);
			hment_htable_try_free(ht);
			continue;
		}
		hment_sync_forget_unseen(w, ht);
		cond_resched();
	}
}

/*
 * A hugetlb VMA that may share PMD tables with other processes: another
 * process unsharing one (huge_pmd_unshare()) can free it while we read
 * it. hugetlb_vma_lock_read() is what the kernel's own walkers take, but
 * it is not exported; __huge_pmd_unshare() asserts the file's i_mmap_rwsem
 * held for write (i_mmap_assert_write_locked(), 6.1 and 6.12 alike), so
 * holding it for read keeps every shared table of the file in place. It
 * nests inside mmap_lock and outside the page-table locks (mm/rmap.c).
 * Return: the mapping to lock, or NULL.
 */
static struct address_space *
hment_vma_shared_pmds(struct vm_area_struct *vma)
{
	if (!is_vm_hugetlb_page(vma) || !(vma->vm_flags & VM_MAYSHARE) ||
	    !vma->vm_file)
		return NULL;
	return vma->vm_file->f_mapping;
}

static void hment_walk_vmas(struct hment_sync *w)
{
	struct address_space *mapping;
	struct vm_area_struct *vma;

	VMA_ITERATOR(vmi, w->mm, 0);

	for_each_vma(vmi, vma) {
		if (vma->vm_flags & (VM_PFNMAP | VM_IO))
			continue;
		w->vma = vma;
		mapping = hment_vma_shared_pmds(vma);
		w->shareable = !!mapping;
		if (mapping)
			i_mmap_lock_read(mapping);
		hment_walk_range(w, pgd_offset(w->mm, vma->vm_start),
				 vma->vm_start, vma->vm_end);
		if (mapping)
			i_mmap_unlock_read(mapping);
		cond_resched();
	}
	w->vma = NULL;
}

/*
 * hment_sync_hat() drawing on @stock, which the caller drains: a sync of
 * every process keeps one stock from the first to the last, so that it
 * does not shrink back and grow again with each of them. In
 * HMENT_SYNC_EXPECT mode, only a hat never synced is read.
 */
static int hment_sync_hat_stock(struct hment_hat *hat,
				struct hment_sync_stats *st,
				struct hment_stock *stock,
				enum hment_sync_mode mode)
{
	bool record = mode == HMENT_SYNC_RECORD;
	struct hment_sync w = {
		.hat = hat, .idx = hat->idx, .mm = hat->mm, .st = st,
		.stock = stock, .record = record,
		.expect = mode == HMENT_SYNC_EXPECT,
	};
	int err = -ESRCH;

	mutex_lock(&hat->lock);
	if (w.expect && hat->gen) {
		err = 0;
		goto out;
	}
	if (READ_ONCE(hat->dead) || !hat->mm || !mmget_not_zero(hat->mm))
		goto out;
	if (record)
		hat->gen++;
	mmap_read_lock(hat->mm);
	hment_walk_vmas(&w);
	mmap_read_unlock(hat->mm);
	if (record)
		hment_sync_reconcile(&w);
	/* may be the last user: exit_mmap() and our release() run here */
	mmput(hat->mm);
	st->hats++;
	err = 0;
out:
	mutex_unlock(&hat->lock);
	return err;
}

/**
 * hment_sync_hat - bring the index in step with one process's page tables
 * @hat: a tracked process, referenced by the caller
 * @st: counts of this sync, added to
 * @record: false to only read the tables and count leaves (the raw walk
 *	    that benchmarks compare against)
 *
 * Context: process context; takes the hat's lock, then the mm's mmap_lock
 * for read.
 * Return: 0, or -ESRCH when the process is exiting.
 */
int hment_sync_hat(struct hment_hat *hat, struct hment_sync_stats *st,
		   bool record)
{
	struct hment_stock stock = {};
	int err;

	err = hment_sync_hat_stock(hat, st, &stock,
				   record ? HMENT_SYNC_RECORD : HMENT_SYNC_READ);
	hment_stock_drain(hat->idx, &stock);
	return err;
}

/*
 * Before the first sync of processes, read their tables once to count the
 * hments it will add, and size the hash for them: grown under the sync
 * instead, the hash moved every hment about four times, and the sync
 * spun on the stripe locks the moves held (half of a full sync of 1M
 * mappings). Reading costs about one raw walk; a re-sync, which adds
 * little, skips it.
 */
static void hment_sync_expect(struct hment_index *idx,
			      struct hment_hat **hats, unsigned int n,
			      struct hment_sync_stats *st)
{
	struct hment_sync_stats ahead = {};
	unsigned int i;

	for (i = 0; i < n; i++)
		hment_sync_hat_stock(hats[i], &ahead, NULL, HMENT_SYNC_EXPECT);
	st->expected = ahead.expected;
	if (ahead.expected)
		hment_hash_expect(idx, ahead.expected);
}

/**
 * hment_sync_pid - sync one tracked process
 * @idx: index
 * @pid: its thread-group id
 * @st: counts of this sync (cleared first)
 * @record: false for the read-only raw walk
 *
 * Syncs of different processes run in parallel.
 *
 * Context: process context; may sleep.
 * Return: 0, -ESRCH when @pid is not tracked or exiting, or -EINTR.
 */
int hment_sync_pid(struct hment_index *idx, pid_t pid,
		   struct hment_sync_stats *st, bool record)
{
	ktime_t start = ktime_get();
	struct hment_hat *hat;
	int err = -ESRCH;

	memset(st, 0, sizeof(*st));
	if (mutex_lock_interruptible(&idx->sync_lock))
		return -EINTR;
	hment_hat_reap(idx);
	hat = hment_hat_find(idx, pid);
	if (hat && (hat->kernel || !hment_hat_get(hat)))
		hat = NULL;
	mutex_unlock(&idx->sync_lock);
	if (hat) {
		if (record)
			hment_sync_expect(idx, &hat, 1, st);
		err = hment_sync_hat(hat, st, record);
		hment_hat_put(hat);
	}
	st->duration_ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	return err;
}

/*
 * Under sync_lock: track new processes if asked, let go of the hats of
 * processes that exited, and take a reference on each remaining one.
 */
static struct hment_hat **hment_sync_pick(struct hment_index *idx,
					  bool record, unsigned int *count)
{
	struct hment_hat *hat, **hats;
	unsigned int n = 0;

	lockdep_assert_held(&idx->sync_lock);
	if (idx->track_all && record)
		hment_hat_track_all(idx);
	hment_hat_reap(idx);
	list_for_each_entry(hat, &idx->hats, node)
		n++;
	hats = kmalloc_array(n, sizeof(*hats), GFP_KERNEL);
	if (!hats)
		return NULL;
	n = 0;
	list_for_each_entry(hat, &idx->hats, node) {
		if (hat->kernel)
			continue;
		if (hment_hat_get(hat))
			hats[n++] = hat;
	}
	*count = n;
	return hats;
}

/**
 * hment_sync_all - sync every tracked address space
 * @idx: index
 * @st: counts of this sync (cleared first)
 * @record: false for the read-only raw walk
 *
 * Tracks new processes first when tracking all, and frees the hats of
 * processes that exited.
 *
 * Context: process context; may sleep.
 * Return: 0, -ENOMEM or -EINTR.
 */
int hment_sync_all(struct hment_index *idx, struct hment_sync_stats *st,
		   bool record)
{
	ktime_t start = ktime_get();
	struct hment_stock stock = {};
	struct hment_hat **hats;
	unsigned int i, n = 0;

	memset(st, 0, sizeof(*st));
	if (mutex_lock_interruptible(&idx->sync_lock))
		return -EINTR;
	hats = hment_sync_pick(idx, record, &n);
	mutex_unlock(&idx->sync_lock);
	if (!hats)
		return -ENOMEM;
	if (record) {
		hment_reserve(idx, 0);
		hment_sync_expect(idx, hats, n, st);
	}
	for (i = 0; i < n; i++) {
		hment_sync_hat_stock(hats[i], st, &stock,
				     record ? HMENT_SYNC_RECORD :
				     HMENT_SYNC_READ);
		hment_hat_put(hats[i]);
	}
	hment_stock_drain(idx, &stock);
	kfree(hats);
	st->duration_ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	return 0;
}
