/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hats: the address spaces whose page tables the index covers (hat.c),
 * and the tracking of live processes through their mmu_notifier
 * (track.c). The kernel's address space is made here too
 * (hment_hats_init()), not by the index.
 */
#ifndef _HMENT_HAT_H
#define _HMENT_HAT_H

#include <linux/kref.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>
#include "hment.h"

/*
 * A hat counts invalidations per 2M region of the address space, the
 * regions folded onto HMENT_INV_BUCKETS counters (region number modulo
 * the count): a sync's pass over one table asks only about its own
 * region, with a bounded amount of work under a spinlock. Regions that
 * share a counter, and ranges wider than all the counters, only make a
 * pass retry when it need not.
 */
#define HMENT_INV_BUCKETS	64
#define HMENT_INV_SHIFT		21

/**
 * struct hment_hat - an address space whose page tables are indexed
 * @idx:	index it belongs to
 * @htables:	per level, (first address >> level span shift) -> htable
 * @ref:	one for being on &hment_index.hats, one per user (a sync, a
 *		lookup); the last put frees the hat
 * @lock:	serialises syncs of this hat: htables are created and freed
 *		under it; outside mmap_lock
 * @node:	on &hment_index.hats, under &hment_index.hats_lock and
 *		&hment_index.sync_lock
 * @pid:	thread-group id of the owner, 0 for the kernel
 * @kernel:	the kernel's address space: never stolen from
 * @mm:		the process's mm (mmgrab'd), NULL for the kernel and tests
 * @mn:		notifier on @mm: its invalidations remove index entries
 *		(x86 only, with track.c)
 * @inv_lock:	guards the @inv_ fields
 * @inv_wide_active: invalidations in progress wider than the buckets
 * @inv_wide_seq: such invalidations started
 * @inv_active:	per bucket of 2M regions, invalidations in progress
 * @inv_seq:	per bucket, invalidations started
 * @dead:	@mm has exited or the hat was untracked: its mappings are gone
 *		from the index and syncs leave it alone
 * @gen:	count of this hat's syncs
 * @comm:	command name of the owner when it was tracked
 */
struct hment_hat {
	struct hment_index *idx;
	struct xarray htables[HMENT_LEVELS];
	struct kref ref;
	struct mutex lock;		/* see @lock above */
	struct list_head node;
	pid_t pid;
	bool kernel;
	struct mm_struct *mm;
#ifdef CONFIG_X86
	struct mmu_notifier mn;
#endif
	spinlock_t inv_lock;		/* a leaf: see the lock order */
	unsigned int inv_wide_active;
	unsigned long inv_wide_seq;
	unsigned int inv_active[HMENT_INV_BUCKETS];
	unsigned long inv_seq[HMENT_INV_BUCKETS];
	bool dead;
	u32 gen;
	char comm[TASK_COMM_LEN];
};

/* hat.c */
int hment_hats_init(struct hment_index *idx);
struct hment_hat *hment_hat_create(struct hment_index *idx, pid_t pid,
				   bool kernel);
int hment_hat_destroy(struct hment_hat *hat);
bool hment_hat_get(struct hment_hat *hat);
void hment_hat_put(struct hment_hat *hat);
unsigned long hment_hat_forget_range(struct hment_hat *hat,
				     unsigned long start, unsigned long end);
void hment_hat_reap(struct hment_index *idx);
void hment_hat_reap_work(struct work_struct *work);
struct hment_hat *hment_hat_find(struct hment_index *idx, pid_t pid);
unsigned long hment_hat_mappings(struct hment_hat *hat,
				 unsigned long *htables);
const char *hment_hat_name_va(struct hment_hat *hat, unsigned long va,
			      char *buf, size_t size);

/*
 * Live processes and page tables: track.c, walker.c and debugfs.c, their
 * front end, are built on x86 only (see Kbuild). The index core builds
 * anywhere, UML included, and there the module's hats are never tracked.
 */
#ifdef CONFIG_X86
/* track.c */
unsigned long hment_hat_inv_begin(struct hment_hat *hat, unsigned long start,
				  unsigned long end);
bool hment_hat_inv_unchanged(struct hment_hat *hat, unsigned long cookie,
			     unsigned long start, unsigned long end);
int hment_hat_track(struct hment_index *idx, pid_t pid);
int hment_hat_track_all(struct hment_index *idx);
void hment_hat_notifier_stop(struct hment_hat *hat);
pid_t hment_pid_from_writer(pid_t nr);
struct hment_track_cmd;
int hment_track_command(struct hment_index *idx,
			const struct hment_track_cmd *cmd);
#else
static inline int hment_hat_track_all(struct hment_index *idx)
{
	return 0;
}

static inline void hment_hat_notifier_stop(struct hment_hat *hat)
{
}
#endif

#endif /* _HMENT_HAT_H */
