// SPDX-License-Identifier: GPL-2.0
/*
 * hats: the address spaces whose page tables the index covers, after the
 * illumos hat_t. The kernel's is made with the index and is never stolen
 * from; a process's holds its mm with mmgrab() only (never a task, never
 * mm_users for long) and watches it with an mmu_notifier:
 *
 *  - invalidate_range_start removes every index entry in the range before
 *    the page tables change, so the index never claims a mapping that is
 *    gone, and notes the range; invalidate_range_end counts it finished. A
 *    sync's pass over a table that overlapped one undoes what it added
 *    (see hment_hat_inv_begin());
 *  - release removes every entry of the hat when the mm exits and queues
 *    the reaper, which frees the hat (hment_hat_reap()).
 *
 * A hat is counted: the list of hats holds one reference, and so does each
 * sync or lookup using it. Tracking and untracking happen under
 * hment_index.sync_lock, a sync under the hat's own lock; the last
 * reference frees the hat. The notifiers take only spinlocks.
 */
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "hment.h"

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
	unsigned int level;

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
	for (level = 0; level < HMENT_LEVELS; level++)
		xa_init(&hat->htables[level]);
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

/**
 * hment_hat_forget_range - remove the index entries of [start, end)
 * @hat: address space
 * @start: first address
 * @end: end of the range (exclusive)
 *
 * Works from the htables' shadows and never reads a page table.
 *
 * Context: any; takes spinlocks only.
 * Return: how many entries were removed.
 */
unsigned long hment_hat_forget_range(struct hment_hat *hat,
				     unsigned long start, unsigned long end)
{
	unsigned long key, first, last, removed = 0;
	unsigned int level, shift, e, e_first, e_last;
	struct hment_htable *ht;

	if (start >= end)
		return 0;
	rcu_read_lock();
	for (level = 0; level < HMENT_LEVELS; level++) {
		shift = hment_level_shift(level);
		first = start >> shift;
		last = (end - 1) >> shift;
		xa_for_each_range(&hat->htables[level], key, ht, first, last) {
			/* leaf span is 1 << (shift - 9); the table's is 1 << shift */
			e_first = key == first ?
				  (start >> (shift - HMENT_LEVEL_SHIFT)) %
				  HMENT_ENTRIES : 0;
			e_last = key == last ?
				 ((end - 1) >> (shift - HMENT_LEVEL_SHIFT)) %
				 HMENT_ENTRIES : HMENT_ENTRIES - 1;
			for (e = e_first; e <= e_last; e++)
				if (hment_htable_shadow(ht, e) != HMENT_NO_PFN)
					removed += !hment_unmap_entry(hat->idx,
								      ht, e);
		}
	}
	rcu_read_unlock();
	return removed;
}
EXPORT_SYMBOL_IF_KUNIT(hment_hat_forget_range);

/* Changes that keep every page mapped where it was: nothing to remove. */
static bool hment_inv_keeps_mappings(const struct mmu_notifier_range *range)
{
	return range->event == MMU_NOTIFY_PROTECTION_VMA ||
	       range->event == MMU_NOTIFY_PROTECTION_PAGE ||
	       range->event == MMU_NOTIFY_SOFT_DIRTY;
}

/*
 * The buckets of the 2M regions of [start, end): the first and how many.
 * Return: false when the range covers more regions than there are buckets.
 */
static bool hment_inv_buckets(unsigned long start, unsigned long end,
			      unsigned int *first, unsigned int *n)
{
	unsigned long regions = ((end - 1) >> HMENT_INV_SHIFT) -
				(start >> HMENT_INV_SHIFT) + 1;

	if (regions > HMENT_INV_BUCKETS)
		return false;
	*first = (start >> HMENT_INV_SHIFT) % HMENT_INV_BUCKETS;
	*n = regions;
	return true;
}

static int hment_inv_start(struct mmu_notifier *mn,
			   const struct mmu_notifier_range *range)
{
	struct hment_hat *hat = container_of(mn, struct hment_hat, mn);
	unsigned int first, n, i, b;

	if (hment_inv_keeps_mappings(range) || range->start >= range->end)
		return 0;
	spin_lock(&hat->inv_lock);
	if (!hment_inv_buckets(range->start, range->end, &first, &n)) {
		hat->inv_wide_active++;
		hat->inv_wide_seq++;
	}
	for (i = 0; i < n; i++) {
		b = (first + i) % HMENT_INV_BUCKETS;
		hat->inv_active[b]++;
		hat->inv_seq[b]++;
	}
	spin_unlock(&hat->inv_lock);
	hment_hat_forget_range(hat, range->start, range->end);
	return 0;
}

static void hment_inv_end(struct mmu_notifier *mn,
			  const struct mmu_notifier_range *range)
{
	struct hment_hat *hat = container_of(mn, struct hment_hat, mn);
	unsigned int first, n, i, b;

	if (hment_inv_keeps_mappings(range) || range->start >= range->end)
		return;
	spin_lock(&hat->inv_lock);
	if (!hment_inv_buckets(range->start, range->end, &first, &n) &&
	    !WARN_ON_ONCE(!hat->inv_wide_active))
		hat->inv_wide_active--;
	for (i = 0; i < n; i++) {
		b = (first + i) % HMENT_INV_BUCKETS;
		if (!WARN_ON_ONCE(!hat->inv_active[b]))
			hat->inv_active[b]--;
	}
	spin_unlock(&hat->inv_lock);
}

/*
 * Where invalidations touching [start, end) stand: the sum of the counts
 * started (it grows with each), or ULONG_MAX while one is in progress.
 */
static unsigned long hment_inv_state(struct hment_hat *hat,
				     unsigned long start, unsigned long end)
{
	unsigned long seq = hat->inv_wide_seq;
	bool active = hat->inv_wide_active;
	unsigned int first, n, i, b;

	lockdep_assert_held(&hat->inv_lock);
	if (!hment_inv_buckets(start, end, &first, &n)) {
		first = 0;
		n = HMENT_INV_BUCKETS;
	}
	for (i = 0; i < n; i++) {
		b = (first + i) % HMENT_INV_BUCKETS;
		seq += hat->inv_seq[b];
		active |= hat->inv_active[b];
	}
	return active ? ULONG_MAX : seq;
}

/*
 * The mm is exiting (exit_mmap(), or an unregister of a live mm): every
 * mapping goes now. The hat itself, its htables and the mm it pins are
 * let go by the reaper: this may run inside a sync's mmput() with the
 * hat's lock held, or in track with the index's sync_lock held, so it
 * takes neither and does not wait.
 */
static void hment_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct hment_hat *hat = container_of(mn, struct hment_hat, mn);
	bool was_dead = READ_ONCE(hat->dead);

	WRITE_ONCE(hat->dead, true);
	hment_hat_forget_range(hat, 0, ULONG_MAX);
	/* untrack and unload mark it dead first, and free it themselves */
	if (!was_dead)
		schedule_work(&hat->idx->reap_work);
}

static const struct mmu_notifier_ops hment_mn_ops = {
	.release = hment_release,
	.invalidate_range_start = hment_inv_start,
	.invalidate_range_end = hment_inv_end,
};

/**
 * hment_hat_inv_begin - note where invalidations of a range stand
 * @hat: address space about to be read
 * @start: first address the pass will read
 * @end: end of that range (exclusive)
 *
 * A sync reads page-table entries and adds them to the index while the
 * notifier may be removing entries for a range that is about to change.
 * Whatever the sync added for [@start, @end) while an invalidation of an
 * overlapping range was in progress, or after one started, may be gone by
 * the time the sync is done: it asks hment_hat_inv_unchanged() after
 * adding, and undoes if told so. Invalidations of other 2M regions do
 * not matter (unless they share its bucket), much as with
 * mmu_interval_read_begin() of an interval notifier.
 *
 * Return: a cookie for hment_hat_inv_unchanged().
 */
unsigned long hment_hat_inv_begin(struct hment_hat *hat, unsigned long start,
				  unsigned long end)
{
	unsigned long seq;

	spin_lock(&hat->inv_lock);
	seq = hment_inv_state(hat, start, end);
	spin_unlock(&hat->inv_lock);
	return seq;
}

/**
 * hment_hat_inv_unchanged - did no invalidation of a range run since?
 * @hat: address space
 * @cookie: from hment_hat_inv_begin() for the same range
 * @start: first address
 * @end: end of the range (exclusive)
 *
 * Return: true if what was added for the range since is still valid.
 */
bool hment_hat_inv_unchanged(struct hment_hat *hat, unsigned long cookie,
			     unsigned long start, unsigned long end)
{
	bool same;

	if (cookie == ULONG_MAX)
		return false;
	spin_lock(&hat->inv_lock);
	same = hment_inv_state(hat, start, end) == cookie;
	spin_unlock(&hat->inv_lock);
	return same;
}

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

static struct hment_hat *hment_hat_find_mm(struct hment_index *idx,
					   struct mm_struct *mm)
{
	struct hment_hat *hat;

	list_for_each_entry(hat, &idx->hats, node)
		if (hat->mm == mm && !hat->dead)
			return hat;
	return NULL;
}

static int hment_hat_track_task(struct hment_index *idx,
				struct task_struct *task)
{
	struct hment_hat *hat;
	struct mm_struct *mm;
	int err;

	if (task->flags & PF_KTHREAD)
		return -EINVAL;
	mm = get_task_mm(task);
	if (!mm)
		return -ESRCH;		/* exiting */
	err = -EEXIST;
	if (hment_hat_find_mm(idx, mm))
		goto out;

	hat = hment_hat_create(idx, task->tgid, false);
	err = PTR_ERR_OR_ZERO(hat);
	if (err)
		goto out;
	get_task_comm(hat->comm, task);
	mmgrab(mm);
	hat->mm = mm;
	hat->mn.ops = &hment_mn_ops;
	err = mmu_notifier_register(&hat->mn, mm);
	if (err) {
		hat->mn.ops = NULL;
		hment_hat_destroy(hat);
	}
out:
	mmput(mm);
	return err;
}

/**
 * hment_hat_track - start indexing the address space of a process
 * @idx: index
 * @pid: any thread of the process, in the caller's pid namespace
 *
 * Context: hment_index.sync_lock held; may sleep.
 * Return: 0; -ESRCH when there is no such process or it is exiting;
 * -EINVAL for a kernel thread; -EEXIST when it is tracked already;
 * -ENOMEM.
 */
int hment_hat_track(struct hment_index *idx, pid_t pid)
{
	struct task_struct *task;
	struct pid *p;
	int err;

	lockdep_assert_held(&idx->sync_lock);
	p = find_get_pid(pid);
	task = get_pid_task(p, PIDTYPE_PID);
	put_pid(p);
	if (!task)
		return -ESRCH;
	err = hment_hat_track_task(idx, task);
	put_task_struct(task);
	return err;
}

/*
 * Tasks cannot be tracked while walking the task list under RCU (that
 * sleeps), so collect references to their pids first; the list may grow
 * meanwhile, and a late process is picked up by the next sync.
 */
static struct pid **hment_collect_processes(unsigned int *count)
{
	struct task_struct *p;
	unsigned int n = 0, cap = 0;
	struct pid **pids;

	rcu_read_lock();
	for_each_process(p)
		cap++;
	rcu_read_unlock();

	pids = kvcalloc(cap, sizeof(*pids), GFP_KERNEL);
	if (!pids)
		return NULL;
	rcu_read_lock();
	for_each_process(p) {
		if (n == cap)
			break;
		if (!(p->flags & PF_KTHREAD) && p->mm)
			pids[n++] = get_task_pid(p, PIDTYPE_PID);
	}
	rcu_read_unlock();
	*count = n;
	return pids;
}

/**
 * hment_hat_track_all - track every user process not tracked yet
 * @idx: index
 *
 * Context: hment_index.sync_lock held; may sleep.
 * Return: the number of processes newly tracked, or -ENOMEM.
 */
int hment_hat_track_all(struct hment_index *idx)
{
	struct task_struct *task;
	unsigned int i, n = 0;
	struct pid **pids;
	int added = 0;

	lockdep_assert_held(&idx->sync_lock);
	pids = hment_collect_processes(&n);
	if (!pids)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		task = get_pid_task(pids[i], PIDTYPE_PID);
		if (task) {
			added += !hment_hat_track_task(idx, task);
			put_task_struct(task);
		}
		put_pid(pids[i]);
	}
	kvfree(pids);
	return added;
}

/* Drop every entry still indexed for the hat; true if all went. */
static bool hment_hat_clear(struct hment_hat *hat)
{
	struct hment_htable *ht;
	unsigned int level;
	unsigned long key;
	bool cleared = true;

	for (level = 0; level < HMENT_LEVELS; level++) {
		xa_for_each(&hat->htables[level], key, ht) {
			hment_htable_clear(hat->idx, ht);
			cleared &= !atomic_read(&ht->ht_valid_cnt);
		}
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
	struct hment_htable *ht;
	unsigned int level;
	unsigned long key;
	bool stuck;

	if (hat->mm && hat->mn.ops)
		mmu_notifier_unregister(&hat->mn, hat->mm);
	stuck = WARN_ON_ONCE(!hment_hat_clear(hat));
	for (level = 0; level < HMENT_LEVELS && !stuck; level++) {
		xa_for_each(&hat->htables[level], key, ht)
			hment_htable_free(ht);
		xa_destroy(&hat->htables[level]);
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
