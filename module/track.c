// SPDX-License-Identifier: GPL-2.0
/*
 * Tracking live processes: a hat per process, holding its mm with mmgrab()
 * and watching it with an mmu_notifier:
 *
 *  - invalidate_range_start removes every index entry in the range before
 *    the page tables change, so the index never claims a mapping that is
 *    gone; invalidate_range_end counts the invalidation as finished, which
 *    tells a sync that raced with it to undo what it added (see
 *    hment_hat_inv_begin());
 *  - release removes every entry of the hat when the mm exits; the hat
 *    itself is freed later by its owner (hat.c).
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

/* Changes that keep every page mapped where it was: nothing to remove. */
static bool hment_inv_keeps_mappings(const struct mmu_notifier_range *range)
{
	return range->event == MMU_NOTIFY_PROTECTION_VMA ||
	       range->event == MMU_NOTIFY_PROTECTION_PAGE ||
	       range->event == MMU_NOTIFY_SOFT_DIRTY;
}

static int hment_inv_start(struct mmu_notifier *mn,
			   const struct mmu_notifier_range *range)
{
	struct hment_hat *hat = container_of(mn, struct hment_hat, mn);

	if (hment_inv_keeps_mappings(range))
		return 0;
	spin_lock(&hat->inv_lock);
	hat->inv_active++;
	spin_unlock(&hat->inv_lock);
	hment_hat_forget_range(hat, range->start, range->end);
	return 0;
}

static void hment_inv_end(struct mmu_notifier *mn,
			  const struct mmu_notifier_range *range)
{
	struct hment_hat *hat = container_of(mn, struct hment_hat, mn);

	if (hment_inv_keeps_mappings(range))
		return;
	spin_lock(&hat->inv_lock);
	hat->inv_active--;
	hat->inv_seq++;
	spin_unlock(&hat->inv_lock);
}

/* Every mapping goes with the mm; the hat waits for its owner. */
static void hment_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct hment_hat *hat = container_of(mn, struct hment_hat, mn);

	WRITE_ONCE(hat->dead, true);
	hment_hat_forget_range(hat, 0, ULONG_MAX);
}

static const struct mmu_notifier_ops hment_mn_ops = {
	.release = hment_release,
	.invalidate_range_start = hment_inv_start,
	.invalidate_range_end = hment_inv_end,
};

/**
 * hment_hat_inv_begin - note where invalidations of @hat's mm stand
 * @hat: address space about to be read
 *
 * A sync reads page-table entries and adds them to the index while the
 * notifier may be removing entries for a range that is about to change.
 * Whatever the sync added after an invalidation started, or while one
 * was running, may be gone by the time the sync is done: it asks
 * hment_hat_inv_unchanged() after adding, and undoes if told so.
 *
 * Return: a cookie for hment_hat_inv_unchanged().
 */
unsigned long hment_hat_inv_begin(struct hment_hat *hat)
{
	unsigned long seq;

	spin_lock(&hat->inv_lock);
	seq = hat->inv_active ? ULONG_MAX : hat->inv_seq;
	spin_unlock(&hat->inv_lock);
	return seq;
}

/**
 * hment_hat_inv_unchanged - did no invalidation run since the cookie?
 * @hat: address space
 * @cookie: from hment_hat_inv_begin()
 *
 * Return: true if what was added since is still valid.
 */
bool hment_hat_inv_unchanged(struct hment_hat *hat, unsigned long cookie)
{
	bool same;

	spin_lock(&hat->inv_lock);
	same = !hat->inv_active && hat->inv_seq == cookie;
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
