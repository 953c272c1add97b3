// SPDX-License-Identifier: GPL-2.0
/*
 * Tracking live processes: a hat per process, holding its mm with mmgrab()
 * and watching it with an mmu_notifier:
 *
 *  - invalidate_range_start removes every index entry in the range before
 *    the page tables change, so the index never claims a mapping that is
 *    gone, and notes the range; invalidate_range_end counts it finished. A
 *    sync's pass over a table that overlapped one undoes what it added
 *    (see hment_hat_inv_begin());
 *  - release removes every entry of the hat when the mm exits and queues
 *    the reaper, which frees the hat (hment_hat_reap() in hat.c).
 *
 * The notifiers take only spinlocks. Built on x86 only, with the walker.
 */
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "hment.h"
#include "hat.h"
#include "parse.h"

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

/**
 * hment_hat_notifier_stop - stop watching the mm of a hat being freed
 * @hat: the hat; its notifier, if registered, is unregistered
 *
 * Context: process context; may sleep.
 */
void hment_hat_notifier_stop(struct hment_hat *hat)
{
	if (hat->mm && hat->mn.ops)
		mmu_notifier_unregister(&hat->mn, hat->mm);
}

/**
 * hment_pid_from_writer - the global thread-group id a writer means
 * @nr: any thread id of the process, in the writer's pid namespace
 *
 * Pids are written and read in the writer's and reader's pid namespaces;
 * a hat keeps the global thread-group id.
 *
 * Return: the global thread-group id of the process a writer names by any
 * of its thread ids, or 0 when the writer sees no such task.
 */
pid_t hment_pid_from_writer(pid_t nr)
{
	struct task_struct *task;
	pid_t tgid = 0;
	struct pid *pid;

	pid = find_get_pid(nr);
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (task) {
		tgid = task->tgid;
		put_task_struct(task);
	}
	return tgid;
}

/**
 * hment_track_command - act on a parsed command of the track file
 * @idx: index
 * @cmd: from hment_parse_track(); pids in the caller's pid namespace
 *
 * Context: hment_index.sync_lock held; may sleep.
 * Return: 0; -ESRCH for a pid that is not there or not tracked; as
 * hment_hat_track() or hment_hat_track_all() otherwise.
 */
int hment_track_command(struct hment_index *idx,
			const struct hment_track_cmd *cmd)
{
	struct hment_hat *hat;
	pid_t pid;
	int err;

	switch (cmd->op) {
	case HMENT_TRACK_ALL:
		idx->track_all = true;
		err = hment_hat_track_all(idx);
		return err < 0 ? err : 0;
	case HMENT_UNTRACK_ALL:
		idx->track_all = false;
		return 0;
	case HMENT_TRACK_PID:
		return hment_hat_track(idx, cmd->pid);
	case HMENT_UNTRACK_PID:
		pid = hment_pid_from_writer(cmd->pid);
		hat = pid ? hment_hat_find(idx, pid) : NULL;
		if (!hat || hat->kernel)
			return -ESRCH;
		return hment_hat_destroy(hat);
	}
	return -EINVAL;
}
