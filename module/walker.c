// SPDX-License-Identifier: GPL-2.0
/*
 * The walker: reads a process's live x86 page tables and brings the index
 * in step with them.
 *
 * One function per level, as mm/mincore.c does it, except that a module
 * on 6.1 cannot use walk_page_range() or pmd_trans_unstable(): each upper
 * entry is read once (READ_ONCE) and that one value decides none, leaf or
 * table. PTEs are read under the page-table lock.
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
#include <linux/ktime.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/sched/mm.h>

#include "hment.h"

struct hment_walk {
	struct hment_hat *hat;
	struct hment_index *idx;
	struct mm_struct *mm;		/* whose page tables, for their locks */
	struct vm_area_struct *vma;	/* NULL for the kernel */
	struct hment_sync_stats *st;
	struct hment_stock stock;	/* filled before each PTE lock */
	bool record;			/* false: read and count only */
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
static bool hment_counted_leaf(struct hment_walk *w, unsigned long pfn)
{
	struct page *page;

	if (!hment_counted_pfn(pfn))
		return false;
	if (!w->vma || !vma_is_anonymous(w->vma))
		return true;
	page = pfn_to_page(pfn);
	return PageAnon(page);
}

static bool hment_vma_locked(struct hment_walk *w)
{
	return w->vma && (w->vma->vm_flags & VM_LOCKED);
}

/*
 * The htable for a page-table page; if the range had another page-table
 * page before, the old one is gone: forget its entries first.
 */
static struct hment_htable *hment_walk_htable(struct hment_walk *w,
					      unsigned int level,
					      unsigned long addr,
					      unsigned long ptpfn)
{
	struct hment_htable *ht;

	ht = hment_htable_get(w->hat, level, addr, ptpfn);
	if (PTR_ERR_OR_ZERO(ht) == -EEXIST) {
		ht = hment_htable_lookup(w->hat, level, addr);
		w->st->removed += hment_htable_clear(w->idx, ht);
		if (!hment_htable_put(ht))
			ht = hment_htable_get(w->hat, level, addr, ptpfn);
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
static bool hment_walk_record(struct hment_walk *w, struct hment_htable *ht,
			      unsigned int entry, unsigned long pfn)
{
	unsigned long old = hment_htable_shadow(ht, entry);
	bool locked = hment_vma_locked(w);
	int ret;

	__set_bit(entry, ht->ht_seen);
	if (old == pfn) {
		hment_set_mlocked(w->idx, ht, entry, pfn, locked);
		return false;
	}
	if (old != HMENT_NO_PFN && !hment_unmap_entry(w->idx, ht, entry))
		w->st->removed++;

	/* marked mlocked as it is indexed, so that it is never stolen */
	ret = hment_map_stock(w->idx, ht, entry, pfn, &w->stock, locked);
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
 * A pass over a table races with the notifier: what it added after an
 * invalidation of the mm started may be gone already. Such a pass is
 * undone and tried again a few times (the racing change is usually one
 * fault); after that the table is left stale for the next sync.
 */
#define HMENT_WALK_TRIES	4

/* Take back what this pass added: an invalidation may have missed it. */
static void hment_walk_undo(struct hment_walk *w, struct hment_htable *ht,
			    const unsigned long *added)
{
	unsigned int entry;

	for_each_set_bit(entry, added, HMENT_ENTRIES) {
		if (!hment_unmap_entry(w->idx, ht, entry))
			w->st->added--;
		__clear_bit(entry, ht->ht_seen);
	}
}

/* After a pass undone: try again, or give up and leave @ht stale. */
static bool hment_walk_again(struct hment_walk *w, struct hment_htable *ht,
			     unsigned int *tries)
{
	if (++*tries >= HMENT_WALK_TRIES) {
		hment_htable_mark_stale(w->idx, ht);
		return false;
	}
	w->st->retries++;
	cond_resched();
	return true;
}

/* A 2M or 1G leaf: one entry of a PMD or PUD table. */
static void hment_walk_leaf(struct hment_walk *w, unsigned int level,
			    unsigned long addr, unsigned long ptpfn,
			    unsigned int entry, unsigned long pfn)
{
	DECLARE_BITMAP(added, HMENT_ENTRIES);
	unsigned int tries = 0;
	struct hment_htable *ht;
	unsigned long cookie;

	w->st->entries++;
	if (!hment_counted_leaf(w, pfn))
		return;
	if (!w->record) {
		w->st->leaves++;
		return;
	}
	ht = hment_walk_htable(w, level, addr, ptpfn);
	if (!ht)
		return;
	atomic_inc(&ht->ht_busy);
	do {
		bitmap_zero(added, HMENT_ENTRIES);
		cookie = hment_hat_inv_begin(w->hat);
		if (hment_walk_record(w, ht, entry, pfn))
			__set_bit(entry, added);
		if (!w->mm || hment_hat_inv_unchanged(w->hat, cookie))
			break;
		hment_walk_undo(w, ht, added);
	} while (hment_walk_again(w, ht, &tries));
	atomic_dec(&ht->ht_busy);
}

static void hment_walk_ptes(struct hment_walk *w, struct hment_htable *ht,
			    pte_t *ptep, unsigned long addr, unsigned long end,
			    unsigned long *added)
{
	unsigned int entry;
	pte_t pte;

	for (; addr != end; ptep++, addr += PAGE_SIZE) {
		pte = ptep_get(ptep);
		w->st->entries++;
		if (!hment_counted_pte(pte))
			continue;
		if (!ht) {
			w->st->leaves++;
			continue;
		}
		entry = pte_index(addr);
		if (hment_walk_record(w, ht, entry, pte_pfn(pte)))
			__set_bit(entry, added);
	}
}

/*
 * The PTEs of one table under its lock. Return: false when an invalidation
 * raced, and what the pass added was undone.
 */
static bool hment_walk_ptes_locked(struct hment_walk *w,
				   struct hment_htable *ht, pte_t *ptep,
				   unsigned long addr, unsigned long end,
				   unsigned long cookie)
{
	DECLARE_BITMAP(added, HMENT_ENTRIES);

	bitmap_zero(added, HMENT_ENTRIES);
	hment_walk_ptes(w, ht, ptep, addr, end, added);
	if (!ht || !w->mm || hment_hat_inv_unchanged(w->hat, cookie))
		return true;
	hment_walk_undo(w, ht, added);
	return false;
}

/*
 * Lock the table as pte_offset_map_lock() does. Where that is out of line
 * and unexported (6.5 on), and tables may be freed under RCU, its steps are
 * done by hand: the table stays while RCU is held, and if the PMD changed
 * before the lock was taken the table is left for the next sync.
 * Return: false when the pass was undone.
 */
static bool hment_walk_pte_lock(struct hment_walk *w, struct hment_htable *ht,
				pmd_t *pmdp, pmd_t pmdval, unsigned long addr,
				unsigned long end, unsigned long cookie)
{
	spinlock_t *ptl;	/* the PTE table's lock */
	bool kept = true;
	pte_t *ptep;

	if (ht)		/* what the pass may need, before its lock */
		hment_stock_fill(w->idx, &w->stock);
#ifdef HMENT_PTE_MAP_LOCK_OUT_OF_LINE
	rcu_read_lock();
	ptl = pte_lockptr(w->mm, &pmdval);
	spin_lock(ptl);
	if (pmd_same(pmdval, READ_ONCE(*pmdp))) {
		ptep = pte_offset_kernel(&pmdval, addr);
		kept = hment_walk_ptes_locked(w, ht, ptep, addr, end, cookie);
	}
	spin_unlock(ptl);
	rcu_read_unlock();
#else
	ptep = pte_offset_map_lock(w->mm, pmdp, addr, &ptl);
	kept = hment_walk_ptes_locked(w, ht, ptep, addr, end, cookie);
	pte_unmap_unlock(ptep, ptl);
#endif
	return kept;
}

static void hment_walk_pte_table(struct hment_walk *w, pmd_t *pmdp,
				 pmd_t pmdval, unsigned long addr,
				 unsigned long end)
{
	struct hment_htable *ht = NULL;
	unsigned int tries = 0;

	w->st->tables++;
	if (!w->mm) {
		/* kernel mappings: no lock to take, no notifier to race */
		ht = hment_walk_htable(w, 0, addr, pmd_pfn(pmdval));
		if (ht)
			hment_walk_ptes_locked(w, ht,
					       pte_offset_kernel(pmdp, addr),
					       addr, end, 0);
	} else if (!w->record) {
		hment_walk_pte_lock(w, NULL, pmdp, pmdval, addr, end, 0);
	} else {
		ht = hment_walk_htable(w, 0, addr, pmd_pfn(pmdval));
		if (!ht)
			return;
		atomic_inc(&ht->ht_busy);
		while (!hment_walk_pte_lock(w, ht, pmdp, pmdval, addr, end,
					    hment_hat_inv_begin(w->hat)) &&
		       hment_walk_again(w, ht, &tries))
			;
		atomic_dec(&ht->ht_busy);
	}
	cond_resched();
}

static void hment_walk_pmd_range(struct hment_walk *w, pud_t *pudp,
				 pud_t pudval, unsigned long addr,
				 unsigned long end)
{
	pmd_t *pmdp = pmd_offset(&pudval, addr);
	unsigned long next;
	pmd_t pmdval;

	w->st->tables++;
	for (; addr != end; pmdp++, addr = next) {
		next = pmd_addr_end(addr, end);
		pmdval = READ_ONCE(*pmdp);
		/* none, or a swap or migration entry: nothing mapped */
		if (pmd_none(pmdval) || !pmd_present(pmdval))
			continue;
		if (pmd_leaf(pmdval))
			hment_walk_leaf(w, 1, addr, pud_pfn(pudval),
					pmd_index(addr), pmd_pfn(pmdval));
		else if (!pmd_bad(pmdval))
			hment_walk_pte_table(w, pmdp, pmdval, addr, next);
	}
}

static void hment_walk_pud_range(struct hment_walk *w, p4d_t *p4dp,
				 p4d_t p4dval, unsigned long addr,
				 unsigned long end)
{
	pud_t *pudp = pud_offset(&p4dval, addr);
	unsigned long next;
	pud_t pudval;

	w->st->tables++;
	for (; addr != end; pudp++, addr = next) {
		next = pud_addr_end(addr, end);
		pudval = READ_ONCE(*pudp);
		if (pud_none(pudval) || !pud_present(pudval))
			continue;
		if (pud_leaf(pudval))
			hment_walk_leaf(w, 2, addr, p4d_pfn(p4dval),
					pud_index(addr), pud_pfn(pudval));
		else if (!pud_bad(pudval))
			hment_walk_pmd_range(w, pudp, pudval, addr, next);
	}
}

static void hment_walk_p4d_range(struct hment_walk *w, pgd_t *pgdp,
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

static void hment_walk_range(struct hment_walk *w, pgd_t *pgdp,
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
 * Entries the index holds but this sync did not find are gone, and so are
 * htables it did not visit at all.
 */
static void hment_sync_reconcile(struct hment_walk *w)
{
	struct hment_htable *ht;
	unsigned int level, entry;
	unsigned long key;

	for (level = 0; level < HMENT_LEVELS; level++) {
		xa_for_each(&w->hat->htables[level], key, ht) {
			if (ht->ht_gen != w->hat->gen) {
				w->st->removed += hment_htable_clear(w->idx, ht);
				hment_htable_put(ht);
				continue;
			}
			for_each_clear_bit(entry, ht->ht_seen, HMENT_ENTRIES)
				if (!hment_unmap_entry(w->idx, ht, entry))
					w->st->removed++;
		}
		cond_resched();
	}
}

static void hment_walk_vmas(struct hment_walk *w)
{
	struct vm_area_struct *vma;

	VMA_ITERATOR(vmi, w->mm, 0);

	for_each_vma(vmi, vma) {
		if (vma->vm_flags & (VM_PFNMAP | VM_IO))
			continue;
		w->vma = vma;
		hment_walk_range(w, pgd_offset(w->mm, vma->vm_start),
				 vma->vm_start, vma->vm_end);
	}
	w->vma = NULL;
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
	struct hment_walk w = {
		.hat = hat, .idx = hat->idx, .mm = hat->mm, .st = st,
		.record = record,
	};
	int err = -ESRCH;

	mutex_lock(&hat->lock);
	if (READ_ONCE(hat->dead) || !hat->mm || !mmget_not_zero(hat->mm))
		goto out;
	if (record)
		hat->gen++;
	mmap_read_lock(hat->mm);
	hment_walk_vmas(&w);
	mmap_read_unlock(hat->mm);
	if (record)
		hment_sync_reconcile(&w);
	hment_stock_drain(w.idx, &w.stock);
	/* may be the last user: exit_mmap() and our release() run here */
	mmput(hat->mm);
	st->hats++;
	err = 0;
out:
	mutex_unlock(&hat->lock);
	return err;
}

/**
 * hment_sync_kernel - index the kernel's vmalloc and module mappings
 * @hat: the kernel hat
 * @st: counts of this sync, added to
 *
 * The kernel's page tables above the user half are shared by every mm, so
 * they are read through the caller's. They have no notifier: a sync is
 * the only thing that brings them up to date.
 *
 * Context: process context, in a process with an mm; takes the hat's lock.
 * Return: 0, or -EINVAL without an mm to read through.
 */
int hment_sync_kernel(struct hment_hat *hat, struct hment_sync_stats *st)
{
	struct hment_walk w = { .hat = hat, .idx = hat->idx, .st = st,
				.record = true };
	struct mm_struct *mm = current->mm;

	if (!mm)
		return -EINVAL;
	mutex_lock(&hat->lock);
	hat->gen++;
	hment_walk_range(&w, pgd_offset(mm, VMALLOC_START), VMALLOC_START,
			 VMALLOC_END);
	hment_walk_range(&w, pgd_offset(mm, MODULES_VADDR), MODULES_VADDR,
			 MODULES_END);
	hment_sync_reconcile(&w);
	mutex_unlock(&hat->lock);
	st->hats++;
	return 0;
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
	hat = hment_hat_find(idx, pid);
	if (hat && (hat->kernel || !hment_hat_get(hat)))
		hat = NULL;
	mutex_unlock(&idx->sync_lock);
	if (hat) {
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
	struct hment_hat *hat, *next, **hats;
	unsigned int n = 0;

	lockdep_assert_held(&idx->sync_lock);
	if (idx->track_all && record)
		hment_hat_track_all(idx);
	list_for_each_entry_safe(hat, next, &idx->hats, node) {
		if (READ_ONCE(hat->dead))
			hment_hat_destroy(hat);
		else
			n++;
	}
	hats = kmalloc_array(n, sizeof(*hats), GFP_KERNEL);
	if (!hats)
		return NULL;
	n = 0;
	list_for_each_entry(hat, &idx->hats, node) {
		if (hat->kernel && !(idx->track_kernel && record))
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
	struct hment_hat **hats;
	unsigned int i, n = 0;

	memset(st, 0, sizeof(*st));
	if (mutex_lock_interruptible(&idx->sync_lock))
		return -EINTR;
	hats = hment_sync_pick(idx, record, &n);
	mutex_unlock(&idx->sync_lock);
	if (!hats)
		return -ENOMEM;
	if (record)
		hment_reserve(idx, 0);
	for (i = 0; i < n; i++) {
		if (hats[i]->kernel)
			hment_sync_kernel(hats[i], st);
		else
			hment_sync_hat(hats[i], st, record);
		hment_hat_put(hats[i]);
	}
	kfree(hats);
	st->duration_ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	return 0;
}
