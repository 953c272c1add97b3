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
#include <linux/lockdep.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/seqlock.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>
#include "hment.h"
#include "htable.h"

/*
 * A hat counts invalidations per 2M region of the address space, the
 * regions folded onto HMENT_INV_BUCKETS counters (region number modulo
 * the count): a sync's pass over one table asks only about its own
 * region, with a bounded amount of work under a spinlock. Regions that
 * share a counter, and ranges wider than all the counters, only make a
 * pass retry when it need not. 32 counters of 32 bits keep the hat in a
 * 512-byte slab object (64 of 96 bits took it to 1 KB): a u32 start count
 * would have to wrap exactly during one pass to be missed.
 */
#define HMENT_INV_BUCKETS	32
#define HMENT_INV_SHIFT		21

/**
 * struct hment_hat - an address space whose page tables are indexed
 * @idx:	index it belongs to
 * @ht_hash:	its htables; replaced by a resize under @lock, read under
 *		RCU or @lock
 * @ht_hash_seq: odd while a resize moves htables between tables: a reader
 *		that missed retries (hment_htable_lookup())
 * @ht_count:	htables in @ht_hash, under @lock
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
	struct hment_htable_hash __rcu *ht_hash;
	seqcount_t ht_hash_seq;
	unsigned int ht_count;
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
	u32 inv_seq[HMENT_INV_BUCKETS];
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
struct file *hment_hat_file_va(struct hment_hat *hat, unsigned long va,
			       const char **name);

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

/* htable.c: a hat's htables, in its own small hash */
int hment_htables_init(struct hment_hat *hat);
int hment_htable_hash_resize(struct hment_hat *hat, unsigned int bits);
void hment_htables_destroy(struct hment_hat *hat);
u64 hment_htables_hash_bytes(struct hment_hat *hat);
/*
 * A hat's htable hash is followed by its owner (holding hment_hat.lock, or
 * the last reference) or under RCU.
 */
static inline bool hment_hat_owned(struct hment_hat *hat)
{
	return lockdep_is_held(&hat->lock) || !kref_read(&hat->ref);
}

#define hment_hat_deref(hat, p)	rcu_dereference_check(p, hment_hat_owned(hat))

/**
 * struct hment_htable_iter - a walk over a hat's htables, bucket by bucket
 * @hat:	the hat
 * @h:		its hash
 * @b:		the bucket
 * @next:	the htable after the current one, read before the caller
 *		may free that (hment_htable_try_free())
 *
 * Used as: for (ht = hment_htable_first(hat, &it); ht;
 * ht = hment_htable_next(&it)). The caller may free the current htable,
 * nothing else. Under RCU an htable added or removed meanwhile may or may
 * not be seen, and a resize meanwhile may hide or repeat some: a reader
 * that must see all of them checks hment_hat.ht_hash_seq around the walk.
 */
struct hment_htable_iter {
	struct hment_hat *hat;
	struct hment_htable_hash *h;
	unsigned int b;
	struct hment_htable *next;
};

static inline struct hment_htable *
hment_htable_iter_at(struct hment_htable_iter *it, struct hment_htable *ht)
{
	while (!ht && ++it->b < (1U << it->h->bits))
		ht = hment_hat_deref(it->hat, it->h->buckets[it->b]);
	if (ht)
		it->next = hment_hat_deref(it->hat, ht->ht_next);
	return ht;
}

/**
 * hment_htable_first - start a walk over a hat's htables
 * @hat: the hat, owned or read under RCU
 * @it: the walk
 *
 * Return: the first htable, or NULL if it has none.
 */
static inline struct hment_htable *
hment_htable_first(struct hment_hat *hat, struct hment_htable_iter *it)
{
	it->hat = hat;
	it->h = hment_hat_deref(hat, hat->ht_hash);
	it->b = 0;
	return hment_htable_iter_at(it, hment_hat_deref(hat,
							it->h->buckets[0]));
}

/**
 * hment_htable_next - go on with a walk over a hat's htables
 * @it: the walk
 *
 * Return: the next htable, or NULL at the end.
 */
static inline struct hment_htable *
hment_htable_next(struct hment_htable_iter *it)
{
	return hment_htable_iter_at(it, it->next);
}

#endif /* _HMENT_HAT_H */
