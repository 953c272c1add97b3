/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hment: a reverse map from page frames to the page-table entries that map
 * them, after the x86 HAT of illumos.
 *
 * Every mapping is a (page-table page, entry) pair recorded against the pfn
 * it maps. A pfn mapped once keeps that pair embedded in its per-pfn record;
 * the second mapping promotes the record to a list of struct hment, and
 * every listed hment is also in a system-wide hash keyed by (page-table pfn,
 * entry), which is how one mapping is found again to remove it.
 *
 * This header is the index core's: its types, its public operations and
 * its locks. It knows no mm_struct, notifier or walker; each other part has
 * a header of its own: htable.h, hat.h (with track.c's tracking), walker.h,
 * parse.h and debugfs.h; internal.h holds what only the index uses.
 *
 * The mapping-list lock of a pfn protects its record and its list, and
 * every change to the index goes through it.
 *
 * Lock order: every lock the module takes, outermost first. A lock nests
 * inside the nearest line above it that is indented less; "(in f)" names
 * the functions where that nesting happens. The kernel's locks are listed
 * where ours sit among them.
 *
 * hment_index.sync_lock        (track, untrack, the reaper, a sync picking
 *                               its hats, debugfs)
 *   hment_hat.lock             (in hment_hat_destroy; a sync takes it alone,
 *                               in hment_sync_hat)
 *     mm->mmap_lock            (read in hment_sync_hat; write in
 *                               mmu_notifier_register from
 *                               hment_hat_track_task, and in exit_mmap from
 *                               the mmput of hment_sync_hat and
 *                               hment_hat_track_task)
 *       mapping->i_mmap_rwsem  (read in hment_walk_vmas, a shareable
 *                               hugetlb VMA's file)
 *         page-table lock      (a PTE table's in hment_walk_ptes_locked,
 *                               pmd_lock/pud_lock in hment_walk_leaf)
 *           mapping-list lock  (in hment_map_stock, hment_unmap_entry and
 *                               hment_set_mlocked from hment_walk_record;
 *                               hment_steal_from_page from hment_alloc;
 *                               under the outer ones alone in
 *                               hment_hat_clear, hment_sync_reconcile,
 *                               hment_walk_htable, hment_walk_undo,
 *                               hment_hat_forget_range)
 *             hash-bucket stripe lock  (in hment_hash_insert,
 *                               hment_hash_remove, hment_hash_find)
 *               the workqueue's pool lock  (queue_work in
 *                               hment_hash_check)
 *             hment_index.reserve_lock  (in hment_prepare_stock, freeing a
 *                               spare; under a page-table lock alone in
 *                               hment_alloc)
 *             hment_index.chunk_lock  (in hment_cache_alloc and
 *                               hment_cache_free, from hment_alloc and
 *                               hment_free)
 *               hment_ids.lock of hm_chunks  (hment_ids_del in
 *                               hment_cache_free; hment_ids_add runs
 *                               alone, in hment_chunk_new)
 *           xa_lock of hment_index.records  (in hment_page_find_or_alloc)
 *       hment_hat.inv_lock     (in hment_hat_inv_begin and
 *                               hment_hat_inv_unchanged, around a pass,
 *                               never under its page-table lock)
 *       hment_hat.ht_hash_seq  (written with preemption off in
 *                               hment_htable_hash_resize, under hat.lock;
 *                               read and retried in hment_hat_forget_range
 *                               and hment_check_htables)
 *   hment_index.hats_lock      (in hment_hat_create, hment_hat_destroy;
 *                               what nests in it is below)
 *
 * hment_index.freeze_lock      (hment_verify; a hash resize in
 *                               hment_hash_work and hment_hash_resize;
 *                               hment_hash_chains)
 *   hash-bucket stripe lock    (in hment_hash_resize_locked,
 *                               hment_hash_chains)
 *   hment_index.hats_lock      (in hment_verify; alone in
 *                               hment_hats_bytes)
 *     mapping-list lock        (in hment_check_records)
 *     hash-bucket stripe lock  (in hment_check_hash)
 *     hment_index.reserve_lock (in hment_reserve_length)
 *     rcu_read_lock            (in hment_check_htables)
 *
 * Never two of a kind: no two mapping-list locks are held at once
 * (hment_verify() checks one record at a time, under its lock, and
 * compares the sums only if nothing changed meanwhile; hment_prepare_stock()
 * drops its own before an allocation may steal), nor two hash-bucket
 * stripes (a resize moves one stripe at a time), nor two page-table locks.
 * The leaves, inside which nothing of ours nests: the hash-bucket stripe
 * lock, hment_index.reserve_lock and hment_hat.inv_lock.
 *
 * The notifiers (track.c) run under whatever the kernel holds when it
 * calls them (mmap_lock, i_mmap_rwsem, folio locks; never a page-table
 * lock) and take only hment_hat.inv_lock, then, alone, what
 * hment_hat_forget_range() takes: rcu_read_lock -> mapping-list lock ->
 * stripe, reserve. The release notifier may run inside mmput() under
 * hment_hat.lock (hment_sync_hat) or hment_index.sync_lock
 * (hment_hat_track_task), and mmu_notifier_unregister() runs it under
 * sync_lock (hment_hat_release from hment_hat_destroy): so no notifier
 * takes a mutex, and release queues hment_index.reap_work instead, which
 * takes sync_lock (hment_hat_reap_work). The work items take
 * sync_lock (reap_work) and freeze_lock (hash_work): cancel_work_sync()
 * on them runs with neither held (hment_index_destroy,
 * hment_hash_destroy).
 *
 * htables are found under RCU (notifiers, verify, stats) and freed after a
 * grace period (hment_htable_free).
 */
#ifndef _HMENT_H
#define _HMENT_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/seq_buf.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

/* Leaves of a page-table page of each level map 4K, 2M or 1G. */
#define HMENT_LEVELS		3
#define HMENT_ENTRIES		512
#define HMENT_LEVEL_SHIFT	9

/* Base pages covered by one leaf at @level (1, 512, 262144). */
#define HMENT_LEVEL_PAGES(level) (1UL << ((level) * HMENT_LEVEL_SHIFT))

struct hment_index;
struct hment_htable;
struct hment_hat;

/*
 * hments live in chunks of HMENT_HCHUNK_SLOTS 16-byte slots (one page) and
 * are named by 32-bit ids: chunk number << HMENT_HCHUNK_SHIFT | slot. Slot 0
 * of a chunk holds its header, and chunk number 0 is never used, so id 0
 * means none. htables have 32-bit ids too, of which an hment keeps
 * HMENT_HTID_BITS beside its entry: 8M htables map 4G entries.
 */
#define HMENT_HCHUNK_SHIFT	8
#define HMENT_HCHUNK_SLOTS	BIT(HMENT_HCHUNK_SHIFT)
#define HMENT_HCHUNK_BYTES	(HMENT_HCHUNK_SLOTS * sizeof(struct hment))
#define HMENT_HTID_BITS		(32 - HMENT_LEVEL_SHIFT)
#define HMENT_HTID_MAX		(BIT(HMENT_HTID_BITS) - 1)

/**
 * struct hment - one mapping of a page that has more than one
 * @hm_next:	id of the next hment on the page's mapping list, or 0
 * @hm_prev:	id of the previous one, 0 for the first (the record points
 *		at it): a removal unlinks in O(1)
 * @hm_hashnext: id of the next hment in the same hash bucket, or 0; links
 *		reserves and stocks too
 * @hm_ht_entry: id of the page-table page's htable << 9 | the entry's index;
 *		0 while the slot is free
 *
 * 16 bytes. The pfn is not kept: the list an hment is on names it, and so
 * does its htable's shadow.
 */
struct hment {
	u32 hm_next;
	u32 hm_prev;
	u32 hm_hashnext;
	u32 hm_ht_entry;
};

/**
 * struct hment_chunk - the header of a chunk, in its slot 0
 * @no:		its number in hment_index.hm_chunks
 * @next:	on hment_index.partial, the next chunk's number, or 0
 * @prev:	the previous one's, 0 for the first
 * @free:	first free slot, 0 for none; free slots link through hm_next
 * @nfree:	free slots
 * @partial:	on hment_index.partial
 * @pad:	zero
 */
struct hment_chunk {
	u32 no;
	u32 next;
	u32 prev;
	u8 free;
	u8 nfree;
	u8 partial;
	u8 pad;
};

/**
 * struct hment_ids - a directory from 32-bit ids to objects
 * @slots:	by id, the object, or (next free id << 1 | 1) for a free id;
 *		replaced by one twice the size when full, the old one kept
 *		(in @old) until the index goes, so readers need no lock
 * @size:	entries in @slots
 * @free:	first free id, 0 for none (id 0 is never handed out)
 * @used:	ids handed out
 * @max:	the largest id it may hand out
 * @nold:	arrays in @old
 * @old:	the arrays @slots replaced
 * @lock:	guards the fields above (readers of @slots excepted)
 */
struct hment_ids {
	void **slots;
	u32 size;
	u32 free;
	u32 used;
	u32 max;
	unsigned int nold;
	void **old[32];
	spinlock_t lock;		/* see @lock above */
};

/*
 * Returned by hment_walk() for the single mapping embedded in a record;
 * never dereferenced.
 */
#define HMENT_EMBEDDED ((struct hment *)1)

/* Counters, always on. Events only grow; gauges go up and down. */
enum hment_stat_item {
	HMENT_STAT_ALLOC,		/* hment_alloc() calls */
	HMENT_STAT_FREE,		/* hment_free() calls */
	HMENT_STAT_PUT_RESERVE,
	HMENT_STAT_GET_RESERVE,
	HMENT_STAT_STEALS,		/* steal attempts */
	HMENT_STAT_STEAL_EXAM,		/* records examined while stealing */
	HMENT_STAT_STOLEN,		/* steals that found a victim */
	HMENT_STAT_STEAL_GIVEUP,	/* steals that stopped at the scan bound */
	HMENT_STAT_CACHE_ALLOC,		/* objects taken from the kmem_cache */
	HMENT_STAT_CACHE_FREE,		/* objects given back to it */
	HMENT_STAT_ALLOC_FAIL,		/* cache, reserve and steal all failed */
	HMENT_STAT_FAULT_INJECTED,
	HMENT_STAT_STALE_MARKS,		/* htables marked stale (events) */
	HMENT_STAT_CHANGES,		/* records changed (see hment_verify()) */
	HMENT_STAT_VERIFY_UNSETTLED,	/* verifies that could not add up */
	HMENT_STAT_REMOVE_MISSING,	/* removals of a mapping not indexed */
	HMENT_STAT_LIVE_HMENTS,		/* gauge: hments on lists */
	HMENT_STAT_MAPPINGS,		/* gauge: index entries, embedded or not */
	HMENT_STAT_PAGES_MAPPED,	/* gauge: records with a mapping */
	HMENT_STAT_RECORDS,		/* gauge: records allocated */
	HMENT_STAT_HTABLES,		/* gauge */
	HMENT_STAT_STALE_HTABLES,	/* gauge */
	HMENT_STAT_HATS,		/* gauge */
	HMENT_STAT_SHADOW_BLOCKS,	/* gauge */
	HMENT_NR_STATS
};

struct hment_stats {
	long item[HMENT_NR_STATS];
};

/* Where the module allocates, for fault injection by site. */
enum hment_fault_site {
	HMENT_FAULT_HMENT,	/* hments from the kmem_cache */
	HMENT_FAULT_RECORDS,	/* per-pfn record chunks */
	HMENT_FAULT_HTABLE,
	HMENT_FAULT_HAT,
	HMENT_FAULT_INDEX,	/* the hash, lock arrays and record directory */
	HMENT_FAULT_DEBUGFS,	/* buffers behind debugfs reads */
	HMENT_NR_FAULT_SITES
};

#define HMENT_FAULT_ALL_SITES	(BIT(HMENT_NR_FAULT_SITES) - 1)

/**
 * struct hment_fault - allocation fault injection
 * @nth:	when non-zero, counts allocations down; the one that brings
 *		it to zero fails (like /proc/self/fail-nth)
 * @every:	when non-zero, every @every-th allocation fails
 * @sites:	mask of enum hment_fault_site: only these are counted and
 *		failed; 0 for all
 * @calls:	allocations seen at those sites while @nth or @every is set,
 *		for @every
 *
 * Stands in for the debugger the seed used to force its slow paths.
 */
struct hment_fault {
	atomic_t nth;
	atomic_t every;
	atomic_t sites;
	atomic_long_t calls;
};

/**
 * struct hment_params - shape of an index
 * @max_pfn:	pfns below this may be indexed
 * @hash_buckets: a fixed number of buckets, a power of two; 0 to size
 *		the hash by what it holds (it grows and shrinks)
 * @mlist_locks: mapping-list locks, power of two
 * @hash_locks:	hash-bucket locks, power of two
 * @reserve_amount: hments kept in reserve
 * @fail_nth:	fault injection from the start (see struct hment_fault)
 * @fail_every:	likewise
 * @fail_sites:	likewise; 0 means every site
 */
struct hment_params {
	unsigned long max_pfn;
	unsigned int hash_buckets;
	unsigned int mlist_locks;
	unsigned int hash_locks;
	unsigned int reserve_amount;
	unsigned int fail_nth;
	unsigned int fail_every;
	unsigned int fail_sites;
};

/**
 * struct hment_hash_table - one bucket array of the hash
 * @pages:	the buckets, HMENT_HASH_PAGE_BUCKETS to a page (the last may
 *		hold fewer): ids of the chains' first hments, linked through
 *		hm_hashnext
 * @size:	number of buckets, a multiple of the number of stripes
 *
 * Page by page from kmalloc: in one piece, kmalloc() would round a large
 * table up to a power of two of pages, and vmalloc() costs a mapping and,
 * when freed, a TLB flush on every CPU at each resize.
 */
struct hment_hash_table {
	u32 **pages;
	unsigned int size;
};

#define HMENT_HASH_PAGE_BUCKETS	(PAGE_SIZE / sizeof(u32))

/* Bucket @b of @t. */
static inline u32 *hment_hash_bucket(const struct hment_hash_table *t,
				     unsigned long b)
{
	return &t->pages[b / HMENT_HASH_PAGE_BUCKETS][b % HMENT_HASH_PAGE_BUCKETS];
}

/**
 * struct hment_hash_stripe - a hash-bucket lock and what it guards
 * @lock:	guards every bucket whose number is this stripe's modulo the
 *		number of stripes, in both tables, and the fields below
 * @cur:	which of hment_index.hash_tab the stripe's buckets are in
 * @moving:	a resize is moving the stripe's buckets to the other table
 * @room:	hments this stripe may still take before it asks for a
 *		resize: its part of the room below the growth load, handed
 *		out by the last resize or check (0: never asks)
 * @moved:	while @moving, how many of them it has moved (in order)
 * @count:	hments in the stripe's buckets
 */
struct hment_hash_stripe {
	spinlock_t lock;		/* see @lock above */
	u8 cur;
	u8 moving;
	u16 room;
	unsigned int moved;
	unsigned int count;
};

/**
 * struct hment_index - one reverse map; the module has one, tests make more
 *
 * Locking: see the top of this file. @reserve_pool and @reserve_count are
 * under @reserve_lock (@reserve_count is read without it for heuristics).
 * @hats under @hats_lock. @records slots are set once, with xa_cmpxchg().
 */
struct hment_index {
	/* the complete table: stable under @freeze_lock (see hash.c) */
	struct hment_hash_table *hash;
	unsigned int hash_size;
	struct hment_hash_table hash_tab[2];	/* current, and the next */
	struct hment_hash_stripe *hash_locks;	/* key k: [k & mask] */
	unsigned int hash_lock_mask;
	unsigned int hash_lock_shift;
	unsigned int hash_min;		/* smallest table, >= one per lock */
	unsigned int hash_max;		/* == min for a fixed size */
	unsigned int hash_shrink_at;	/* stripe count that starts a resize */
	unsigned long hash_resizes;	/* under @freeze_lock */
	struct work_struct hash_work;
	spinlock_t *mlist_locks;	/* see hment_page_lockp() */
	unsigned int mlist_lock_mask;

	struct xarray records;		/* pfn / HMENT_CHUNK_PFNS -> chunk */
	unsigned long max_pfn;

	/* hment chunks by number, and the first with a free slot */
	struct hment_ids hm_chunks;
	spinlock_t chunk_lock;		/* guards chunk headers, free slots */
	u32 partial;
	/* htables by id, which hments name them by */
	struct hment_ids ht_ids;

	spinlock_t reserve_lock;	/* a leaf; guards the pool */
	u32 reserve_pool;		/* ids, linked by hm_hashnext */
	unsigned int reserve_count;
	unsigned int reserve_amount;

	/* pfn after the last steal: the next one starts there */
	atomic_long_t steal_rotor;

	struct mutex hats_lock;		/* guards @hats */
	struct list_head hats;
	struct hment_hat *kernel_hat;

	/*
	 * Held to add hats to @hats or take them off (track, untrack), and
	 * for the fields below. Syncs take it only to pick their hats, so
	 * syncs of different hats run in parallel. Outside mmap_lock.
	 */
	struct mutex sync_lock;
	/* frees the hats of exited processes, queued by their release */
	struct work_struct reap_work;
	bool track_all;			/* pick up new processes at sync */

	/*
	 * Serialises hment_verify() and hash resizes, which move hments
	 * between tables without list locks.
	 */
	struct mutex freeze_lock;

	struct hment_fault fault;
	struct hment_stats __percpu *stats;

#if IS_ENABLED(CONFIG_KUNIT)
	/* called by hment_prepare() while the list lock is dropped */
	void (*unlocked_hook)(struct hment_index *idx, void *data);
	void *unlocked_hook_data;
	/* called by hment_verify(): @locked while it holds a list lock */
	void (*verify_hook)(struct hment_index *idx, bool locked);
	/* called by the stealer with the victim unlinked, its lock held */
	void (*steal_hook)(struct hment_index *idx, struct hment_htable *ht);
	/* called by a hash resize between two batches of a stripe */
	void (*resize_hook)(struct hment_index *idx, void *data);
	void *resize_hook_data;
#endif
};

/**
 * struct hment_stock - hments set aside for one sync's table passes
 * @list:	id of the first, linked through hm_hashnext
 * @count:	hments on @list
 * @want:	what hment_stock_fill() tops up to
 * @ran_dry:	a pass needed more than it had: fill more next time
 * @chunk:	the record chunk the sync found last, or NULL: a table's
 *		entries map runs of pfns, and chunks live as long as the
 *		index, so the next pfn of it needs no xarray lookup
 * @chunk_key:	pfn / HMENT_CHUNK_PFNS of @chunk
 *
 * Private to its sync: no lock.
 */
struct hment_stock {
	u32 list;
	unsigned int count;
	unsigned int want;
	bool ran_dry;
	struct hment_page *chunk;
	unsigned long chunk_key;
};

/* The largest lock arrays an index may have (see hment_params_check()). */
#define HMENT_MAX_LOCKS		BIT(16)

/* index.c */
struct hment_index *hment_index_create(const struct hment_params *params);
void hment_index_destroy(struct hment_index *idx);
struct hment *hment_prepare(struct hment_index *idx, struct hment_htable *ht,
			    unsigned int entry, unsigned long pfn);
bool hment_assign(struct hment_index *idx, struct hment_htable *ht,
		  unsigned int entry, unsigned long pfn, struct hment *hm);
struct hment *hment_remove(struct hment_index *idx, struct hment_htable *ht,
			   unsigned int entry, unsigned long pfn);
struct hment *hment_walk(struct hment_index *idx, unsigned long pfn,
			 struct hment_htable **ht, unsigned int *entry,
			 struct hment *prev);
int hment_map(struct hment_index *idx, struct hment_htable *ht,
	      unsigned int entry, unsigned long pfn);
int hment_map_stock(struct hment_index *idx, struct hment_htable *ht,
		    unsigned int entry, unsigned long pfn,
		    struct hment_stock *stock, bool mlocked);
int hment_set_mlocked(struct hment_index *idx, struct hment_htable *ht,
		      unsigned int entry, unsigned long pfn, bool mlocked);
int hment_unmap(struct hment_index *idx, struct hment_htable *ht,
		unsigned int entry, unsigned long pfn);
int hment_unmap_entry(struct hment_index *idx, struct hment_htable *ht,
		      unsigned int entry);
unsigned int hment_htable_clear(struct hment_index *idx,
				struct hment_htable *ht);
unsigned long hment_mapcnt(struct hment_index *idx, unsigned long pfn);
void hment_mapcnt_range(struct hment_index *idx, unsigned long pfn,
			unsigned long n, u64 *cnt);
/* See hment_visit_mappings(); as pte_fn_t is to apply_to_page_range() */
typedef bool hment_mapping_fn(void *arg, struct hment_htable *ht,
			      unsigned int entry, unsigned long leader);
unsigned int hment_visit_mappings(struct hment_index *idx, unsigned long pfn,
				  hment_mapping_fn *fn, void *arg);

/* hash.c: the hash is the index's own, but a sync may size it ahead */
int hment_hash_expect(struct hment_index *idx, unsigned long more);

/* alloc.c: kmem_cache, reserve pool, stealing, fault injection */
void hment_ids_init(struct hment_ids *ids, u32 max);
void hment_ids_destroy(struct hment_ids *ids);
u32 hment_ids_add(struct hment_ids *ids, void *obj, gfp_t gfp);
void hment_ids_del(struct hment_ids *ids, u32 id);
u64 hment_ids_bytes(struct hment_ids *ids);
void *hment_ids_lookup(struct hment_ids *ids, u32 id);
int hment_htable_id_alloc(struct hment_index *idx, struct hment_htable *ht);
void hment_htable_id_free(struct hment_index *idx, struct hment_htable *ht);
u64 hment_chunk_bytes(struct hment_index *idx);
unsigned long hment_chunks_verify(struct hment_index *idx, struct seq_buf *s,
				  unsigned long *used);
struct hment *hment_alloc(struct hment_index *idx);
void hment_free(struct hment_index *idx, struct hment *hm);
void hment_reserve(struct hment_index *idx, unsigned int count);
void hment_adjust_reserve(struct hment_index *idx);
void hment_reserve_drain(struct hment_index *idx);
unsigned int hment_reserve_max(void);
void hment_stock_fill(struct hment_index *idx, struct hment_stock *stock);
struct hment *hment_stock_take(struct hment_index *idx,
			       struct hment_stock *stock);
void hment_stock_drain(struct hment_index *idx, struct hment_stock *stock);
bool hment_should_fail(struct hment_fault *fault,
		       enum hment_fault_site site);

/* stats.c */
long hment_stat_read(struct hment_index *idx, enum hment_stat_item item);
const char *hment_stat_name(enum hment_stat_item item);
void hment_stats_print(struct hment_index *idx, struct seq_buf *s);
/* pfns with 1, 2, 3-4, 5-8, ... mappings: one bucket per power of two */
#define HMENT_HIST_BUCKETS	(BITS_PER_LONG + 1)
void hment_stats_histogram(struct hment_index *idx, unsigned long *hist);

/* Per-cpu, so the mapping paths never share a cache line for counting. */
static inline void hment_stat_add(struct hment_index *idx,
				  enum hment_stat_item item, long delta)
{
	this_cpu_add(idx->stats->item[item], delta);
}

static inline void hment_stat_inc(struct hment_index *idx,
				  enum hment_stat_item item)
{
	hment_stat_add(idx, item, 1);
}

static inline void hment_stat_dec(struct hment_index *idx,
				  enum hment_stat_item item)
{
	hment_stat_add(idx, item, -1);
}

/* Hot paths: inline, so that lockdep assertions cost nothing without lockdep. */

/**
 * hment_page_lockp - the mapping-list lock of a pfn
 * @idx: index
 * @pfn: page frame number
 *
 * Large-page leaders are 512-aligned, so pfn alone would send every one of
 * them to the same few locks; adding pfn >> 9 spreads them out.
 *
 * Return: the lock.
 */
static inline spinlock_t *hment_page_lockp(struct hment_index *idx,
					   unsigned long pfn)
{
	return &idx->mlist_locks[(pfn + (pfn >> HMENT_LEVEL_SHIFT)) &
				 idx->mlist_lock_mask];
}

static inline void hment_page_lock(struct hment_index *idx, unsigned long pfn)
	__acquires(hment_page_lockp(idx, pfn))
{
	spin_lock(hment_page_lockp(idx, pfn));
}

static inline void hment_page_unlock(struct hment_index *idx,
				     unsigned long pfn)
	__releases(hment_page_lockp(idx, pfn))
{
	spin_unlock(hment_page_lockp(idx, pfn));
}

/* verify.c */
unsigned long hment_verify(struct hment_index *idx, struct seq_buf *s,
			   bool quiet);
void hment_verify_drift(struct hment_index *idx, struct seq_buf *s);

/**
 * hment_ids_get - the object of an id
 * @ids: the directory
 * @id: an id it handed out and has not taken back
 *
 * Context: the caller keeps the object alive (for an hment: a lock that
 * guards a list or bucket it is on); no lock of @ids is needed.
 * Return: the object.
 */
static inline void *hment_ids_get(const struct hment_ids *ids, u32 id)
{
	/* the array is replaced only once copied, and never freed early */
	return READ_ONCE(READ_ONCE(ids->slots)[id]);
}

/* The hment an id names, or NULL for id 0. */
static inline struct hment *hment_ptr(struct hment_index *idx, u32 id)
{
	struct hment *chunk;

	if (!id)
		return NULL;
	chunk = hment_ids_get(&idx->hm_chunks, id >> HMENT_HCHUNK_SHIFT);
	return &chunk[id & (HMENT_HCHUNK_SLOTS - 1)];
}

/* The chunk an hment is in: chunks are aligned to their size. */
static inline struct hment_chunk *hment_chunk_of(const struct hment *hm)
{
	return (struct hment_chunk *)((unsigned long)hm &
				      ~(HMENT_HCHUNK_BYTES - 1));
}

static inline unsigned int hment_slot_of(const struct hment *hm)
{
	return hm - (const struct hment *)hment_chunk_of(hm);
}

/* The id of a slot taken from its chunk (live, reserved or stocked). */
static inline u32 hment_id(const struct hment *hm)
{
	return hment_chunk_of(hm)->no << HMENT_HCHUNK_SHIFT | hment_slot_of(hm);
}

/* The htable and entry of a live hment. */
static inline struct hment_htable *hment_ht(struct hment_index *idx,
					    const struct hment *hm)
{
	return hment_ids_get(&idx->ht_ids, hm->hm_ht_entry >> HMENT_LEVEL_SHIFT);
}

static inline unsigned int hment_entry(const struct hment *hm)
{
	return hm->hm_ht_entry & (HMENT_ENTRIES - 1);
}

#endif /* _HMENT_H */
