// SPDX-License-Identifier: GPL-2.0
/*
 * hats: the address spaces whose page tables the index covers, after the
 * illumos hat_t. The kernel's is made by hment_hats_init(), after the
 * index, and is never stolen from; a process's holds its mm with mmgrab() only (never a task, never
 * mm_users for long) and is watched by an mmu_notifier (track.c), whose
 * release marks it dead and queues the reaper (hment_hat_reap()).
 *
 * A hat is counted: the list of hats holds one reference, and so does each
 * sync or lookup using it. Tracking and untracking happen under
 * hment_index.sync_lock, a sync under the hat's own lock; the last
 * reference frees the hat.
 */
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "hment.h"
#include "htable.h"
#include "hat.h"

/**
 * hment_hat_create - add an address space to the index
 * @idx: index
 * @pid: thread-group id of its owner, 0 for the kernel
 * @kernel: true for the kernel's address space
 *
 * Context: process context; may sleep.
 * Return: the hat or ERR_PTR(-ENOMEM).
 */
struct hment_hat *hment_hat_create(struct hment_index *idx, pid_t pid,
				   bool kernel)
{
	struct hment_hat *hat;

	if (hment_should_fail(&idx->fault, HMENT_FAULT_HAT)) {
		hment_stat_inc(idx, HMENT_STAT_FAULT_INJECTED);
		return ERR_PTR(-ENOMEM);
	}
	hat = kzalloc(sizeof(*hat), GFP_KERNEL);
	if (!hat)
		return ERR_PTR(-ENOMEM);
	hat->idx = idx;
	hat->pid = pid;
	hat->kernel = kernel;
	if (hment_htables_init(hat)) {
		kfree(hat);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&hat->ref);
	mutex_init(&hat->lock);
	spin_lock_init(&hat->inv_lock);
	strscpy(hat->comm, kernel ? "[kernel]" : "", sizeof(hat->comm));

	mutex_lock(&idx->hats_lock);
	list_add_tail(&hat->node, &idx->hats);
	mutex_unlock(&idx->hats_lock);
	hment_stat_inc(idx, HMENT_STAT_HATS);
	return hat;
}
EXPORT_SYMBOL_IF_KUNIT(hment_hat_create);

/* Entries of @ht in [start, end), from its shadow. */
static unsigned long hment_htable_forget(struct hment_htable *ht,
					 unsigned long start, unsigned long end)
{
	unsigned int shift = hment_level_shift(ht->ht_level);
	unsigned int leaf = shift - HMENT_LEVEL_SHIFT;
	unsigned long last = ht->ht_va + ((1UL << shift) - 1);
	unsigned int e, e_first, e_last;
	unsigned long removed = 0;

	if (ht->ht_va > end - 1 || last < start)
		return 0;
	e_first = start > ht->ht_va ? (start - ht->ht_va) >> leaf : 0;
	e_last = end - 1 < last ? (end - 1 - ht->ht_va) >> leaf :
		 HMENT_ENTRIES - 1;
	for (e = e_first; e <= e_last; e++)
		if (hment_htable_shadow(ht, e) != HMENT_NO_PFN)
			removed += !hment_unmap_entry(ht->ht_hat->idx, ht, e);
	return removed;
}

/**
 * hment_hats_init - the hat layer's part of a new index: the kernel's hat
 * @idx: index just made by hment_index_create()
 *
 * The kernel's address space belongs to the hat layer, not to the index:
 * it is made here, and goes with the others in hment_index_destroy().
 *
 * Context: process context; may sleep.
 * Return: 0 or -ENOMEM.
 */
int hment_hats_init(struct hment_index *idx)
{
	struct hment_hat *hat = hment_hat_create(idx, 0, true);

	if (IS_ERR(hat))
		return PTR_ERR(hat);
	idx->kernel_hat = hat;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hment_hats_init);

/**
 * hment_hat_forget_range - remove the index entries of [start, end)
 * @hat: address space
 * @start: first address
 * @end: end of the range (exclusive)
 *
 * Works from the htables' shadows and never reads a page table. A range
 * of fewer tables than the hat has is looked up table by table; a wider
 * one (an exit, a large munmap) goes through the hat's htables instead,
 * again if a resize of the hash may have hidden some (removing an entry
 * twice finds it gone the second time).
 *
 * Context: any; takes spinlocks only.
 * Return: how many entries were removed.
 */
unsigned long hment_hat_forget_range(struct hment_hat *hat,
				     unsigned long start, unsigned long end)
{
	unsigned long va, first, last, tables = 0, removed = 0;
	struct hment_htable_iter it;
	unsigned int level, shift, seq;
	struct hment_htable *ht;

	if (start >= end)
		return 0;
	for (level = 0; level < HMENT_LEVELS; level++) {
		shift = hment_level_shift(level);
		first = start >> shift;
		last = (end - 1) >> shift;
		tables += last - first + 1;	/* < 2^45: no overflow */
	}
	rcu_read_lock();
	if (tables > READ_ONCE(hat->ht_count)) {
		do {
			seq = read_seqcount_begin(&hat->ht_hash_seq);
			for (ht = hment_htable_first(hat, &it); ht;
			     ht = hment_htable_next(&it))
				removed += hment_htable_forget(ht, start, end);
		} while (read_seqcount_retry(&hat->ht_hash_seq, seq));
		goto out;
	}
	for (level = 0; level < HMENT_LEVELS; level++) {
		shift = hment_level_shift(level);
		first = start >> shift;
		last = (end - 1) >> shift;
		for (va = first; ; va++) {
			ht = hment_htable_lookup(hat, level, va << shift);
			if (ht)
				removed += hment_htable_forget(ht, start, end);
			if (va == last)
				break;
		}
	}
out:
	rcu_read_unlock();
	return removed;
}
EXPORT_SYMBOL_IF_KUNIT(hment_hat_forget_range);

/**
 * hment_hat_find - the hat of a thread-group id
 * @idx: index
 * @pid: thread-group id, 0 for the kernel
 *
 * Context: hment_index.sync_lock held.
 * Return: the hat or NULL.
 */
struct hment_hat *hment_hat_find(struct hment_index *idx, pid_t pid)
{
	struct hment_hat *hat;

	lockdep_assert_held(&idx->sync_lock);
	list_for_each_entry(hat, &idx->hats, node)
		if (hat->pid == pid && !hat->dead)
			return hat;
	return NULL;
}

static bool hment_hat_clear(struct hment_hat *hat)
{
	struct hment_htable_iter it;
	struct hment_htable *ht;
	bool cleared = true;

	for (ht = hment_htable_first(hat, &it); ht; ht = hment_htable_next(&it)) {
		hment_htable_clear(hat->idx, ht);
		cleared &= !atomic_read(&ht->ht_valid_cnt);
	}
	return cleared;
}

/*
 * The last reference is gone: stop the notifier, drop whatever is still
 * indexed, and free the hat. An entry that cannot be dropped would leave
 * the index pointing into freed htables: then leak them instead.
 */
static void hment_hat_release(struct kref *ref)
{
	struct hment_hat *hat = container_of(ref, struct hment_hat, ref);
	struct hment_index *idx = hat->idx;
	struct hment_htable_iter it;
	struct hment_htable *ht;
	bool stuck;

	hment_hat_notifier_stop(hat);
	stuck = WARN_ON_ONCE(!hment_hat_clear(hat));
	if (!stuck) {
		for (ht = hment_htable_first(hat, &it); ht;
		     ht = hment_htable_next(&it))
			hment_htable_free(ht);
		hment_htables_destroy(hat);
	}
	if (hat->mm)
		mmdrop(hat->mm);
	hment_stat_dec(idx, HMENT_STAT_HATS);
	if (!stuck)
		kfree(hat);
}

/**
 * hment_hat_reap - free the hats of processes that exited
 * @idx: index
 *
 * Their mappings left the index when the mm exited (hment_release()); this
 * lets go of their htables and of the mm they pin.
 *
 * Context: hment_index.sync_lock held; takes each dead hat's lock; may
 * sleep.
 */
void hment_hat_reap(struct hment_index *idx)
{
	struct hment_hat *hat, *next;

	lockdep_assert_held(&idx->sync_lock);
	list_for_each_entry_safe(hat, next, &idx->hats, node)
		if (READ_ONCE(hat->dead))
			hment_hat_destroy(hat);
}

/**
 * hment_hat_reap_work - hment_hat_reap() queued by a release
 * @work: &hment_index.reap_work
 *
 * Context: a workqueue; takes hment_index.sync_lock.
 */
void hment_hat_reap_work(struct work_struct *work)
{
	struct hment_index *idx = container_of(work, struct hment_index,
					       reap_work);

	mutex_lock(&idx->sync_lock);
	hment_hat_reap(idx);
	mutex_unlock(&idx->sync_lock);
}

/**
 * hment_hat_get - take a reference on a hat
 * @hat: the hat
 *
 * Context: the caller reached @hat through the list (under
 * hment_index.sync_lock) or through an index entry (under a mapping-list
 * lock), so its memory is still there even if it is being released.
 * Return: true, or false when it is being released.
 */
bool hment_hat_get(struct hment_hat *hat)
{
	return kref_get_unless_zero(&hat->ref);
}

/**
 * hment_hat_put - drop a reference; the last one frees the hat
 * @hat: the hat
 *
 * Context: process context; may sleep.
 */
void hment_hat_put(struct hment_hat *hat)
{
	kref_put(&hat->ref, hment_hat_release);
}

/**
 * hment_hat_destroy - take an address space out of the index
 * @hat: the hat; for a process, its notifier is unregistered
 *
 * Its entries go first, while it is still on the list, so that whoever
 * checks the index (hment_verify()) finds every entry's hat; a sync that
 * still holds a reference finds it dead and does nothing. The hat itself
 * is freed when its last user lets go.
 *
 * Context: process context, hment_index.sync_lock held (or, for an index
 * nobody else uses, not needed); takes the hat's lock; may sleep.
 * Return: 0.
 */
int hment_hat_destroy(struct hment_hat *hat)
{
	struct hment_index *idx = hat->idx;

	mutex_lock(&hat->lock);
	WRITE_ONCE(hat->dead, true);
	hment_hat_clear(hat);
	mutex_unlock(&hat->lock);

	mutex_lock(&idx->hats_lock);
	list_del(&hat->node);
	mutex_unlock(&idx->hats_lock);
	hment_hat_put(hat);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hment_hat_destroy);

/**
 * hment_hat_mappings - how much of the index a hat holds
 * @hat: the hat, referenced or on the list under hment_index.sync_lock
 * @htables: set to its htables
 *
 * Context: takes the RCU read lock; the figures are a snapshot.
 * Return: index entries naming its htables.
 */
unsigned long hment_hat_mappings(struct hment_hat *hat,
				 unsigned long *htables)
{
	struct hment_htable_iter it;
	struct hment_htable *ht;
	unsigned long n = 0;

	*htables = 0;
	rcu_read_lock();
	for (ht = hment_htable_first(hat, &it); ht; ht = hment_htable_next(&it)) {
		(*htables)++;
		n += atomic_read(&ht->ht_valid_cnt);
	}
	rcu_read_unlock();
	return n;
}

/*
 * What the address is in its process: a file (returned, referenced), or
 * a bracketed name in @name.
 */
static struct file *hment_vma_file(struct mm_struct *mm, unsigned long va,
				   const char **name)
{
	struct vm_area_struct *vma = vma_lookup(mm, va);
	struct file *file;

	*name = "[gone]";
	if (!vma)
		return NULL;
	/* special mappings ([vdso], [vvar]) name themselves, statically */
	*name = vma->vm_ops && vma->vm_ops->name ? vma->vm_ops->name(vma) : NULL;
	if (*name)
		return NULL;
	file = vma->vm_file;
	if (file) {
		/* anonymous shared memory is a shmem file named dev/zero */
		*name = "[shmem]";
		if (!strcmp(file_dentry(file)->d_name.name, "dev/zero"))
			return NULL;
		return get_file(file);
	}
	if (vma->vm_start <= mm->brk && vma->vm_end >= mm->start_brk)
		*name = "[heap]";
	else if (vma->vm_start <= mm->start_stack &&
		 vma->vm_end >= mm->start_stack)
		*name = "[stack]";
	else
		*name = "[anon]";
	return NULL;
}

/**
 * hment_hat_file_va - what an address is in the process of a hat
 * @hat: the hat, referenced
 * @va: the address
 * @name: set to a bracketed name when no file is returned
 *
 * The file comes back referenced, so that its path can be printed
 * straight into the reader's buffer after mmap_lock is dropped.
 *
 * Context: process context; takes the mm's mmap_lock for read.
 * Return: the file mapped at @va (fput() it), or NULL with @name set:
 * "[kernel]" for a hat without an mm, "[exited]" when its mm is gone, or
 * "[heap]", "[anon]", "[shmem]", "[gone]" when no VMA maps @va any more...
 */
struct file *hment_hat_file_va(struct hment_hat *hat, unsigned long va,
			       const char **name)
{
	struct mm_struct *mm = hat->mm;
	struct file *file;

	*name = "[kernel]";
	if (!mm)
		return NULL;
	*name = "[exited]";
	if (!mmget_not_zero(mm))
		return NULL;
	mmap_read_lock(mm);
	file = hment_vma_file(mm, va, name);
	mmap_read_unlock(mm);
	mmput(mm);
	return file;
}
