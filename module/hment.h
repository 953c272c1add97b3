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
 * Lock order, outermost first:
 *   mapping-list lock (striped by pfn)
 *     -> hash-bucket lock (striped by bucket)
 *       -> reserve lock
 * The mapping-list lock of a pfn protects its record and its list, and
 * every change to the index goes through it. No two mapping-list locks are
 * ever held at once: hment_verify() checks one record at a time under its
 * lock, and compares the sums only if nothing changed meanwhile. A hash
 * resize (hash.c) holds hment_index.freeze_lock, so it never overlaps
 * hment_verify(), and takes one hash-bucket lock at a time under it, no
 * list lock.
 *
 * Around them, a sync (walker.c) takes:
 *   hment_index.sync_lock (to pick its hats; the reaper frees dead ones)
 *     -> hment_hat.lock -> mmap_lock (read)
 *       -> i_mmap_rwsem (read, a shareable hugetlb VMA's file)
 *         -> the page-table lock of a PTE table, PMD or PUD
 *           -> mapping-list lock
 * hment_hat.inv_lock is taken alone. The notifiers take no sleeping lock:
 * release may run inside a sync's mmput() or track's, under hat.lock or
 * sync_lock, so it queues hment_index.reap_work instead.
 */
#ifndef _HMENT_H
#define _HMENT_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/mmu_notifier.h>
#include <linux/sched.h>
#include <linux/seqlock.h>
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

/*
 * A steal examines no more than this many records under its caller's
 * locks, then gives up and leaves the rotor where it stopped.
 */
#define HMENT_STEAL_SCAN	1024

/*
 * Records come in chunks of 64 pfns (1 KB), allocated when one of them is
 * first mapped: the pages a workload maps cluster, but rarely fill 2M.
 */
#define HMENT_CHUNK_SHIFT	6
#define HMENT_CHUNK_PFNS	BIT(HMENT_CHUNK_SHIFT)

/*
 * An htable's shadow comes in blocks of 64 entries (256 bytes), allocated
 * when one of them is first indexed: most page tables map a few runs.
 */
#define HMENT_SHADOW_SHIFT	6
#define HMENT_SHADOW_ENTRIES	BIT(HMENT_SHADOW_SHIFT)
#define HMENT_SHADOW_BLOCKS	(HMENT_ENTRIES >> HMENT_SHADOW_SHIFT)

/* Base pages covered by one leaf at @level (1, 512, 262144). */
#define HMENT_LEVEL_PAGES(level) (1UL << ((level) * HMENT_LEVEL_SHIFT))

struct hment_index;

/**
 * struct hment - one mapping of a page that has more than one
 * @hm_list:	link on the page's mapping list, newest first
 * @hm_hashnext: next hment in the same hash bucket
 * @hm_htable:	page-table page holding the entry
 * @hm_pfn:	the mapped page (leader of the group for a large leaf)
 * @hm_entry:	index of the entry within @hm_htable
 *
 * 40 bytes: the pfn and entry share one word (a pfn has at most 52 bits).
 */
struct hment {
	struct hlist_node hm_list;
	struct hment *hm_hashnext;
	struct hment_htable *hm_htable;
	u64 hm_pfn : 52;
	u64 hm_entry : 12;
};

/*
 * Returned by hment_walk() for the single mapping embedded in a record;
 * never dereferenced.
 */
#define HMENT_EMBEDDED ((struct hment *)1)

#define HMENT_PAGE_EMBEDDED	BIT(0)

/**
 * struct hment_page - per-pfn record, the part of illumos's page_t we need
 * @embed_ht:	when embedded: page-table page of the only mapping
 * @hments:	otherwise: the page's hments (empty when unmapped)
 * @share:	number of hments on @hments; 0 when embedded
 * @entry:	when embedded: entry of the only mapping
 * @flags:	HMENT_PAGE_EMBEDDED
 * @szc:	highest level any mapping of this pfn used since it was last
 *		unmapped; tells hment_mapcnt() which group leaders to visit
 *
 * Protected by the pfn's mapping-list lock. Records are allocated in chunks
 * on first use and live as long as the index: a pointer to one stays good.
 */
struct hment_page {
	union {
		struct hment_htable *embed_ht;
		struct hlist_head hments;
	};
	u32 share;
	u16 entry;
	u8 flags;
	u8 szc;
};

/* Bit numbers in hment_htable.ht_flags */
#define HMENT_HT_STALE		0
#define HMENT_HT_WIDE		1	/* shadow holds unsigned longs, not u32 */

/* What hment_htable.ht_shadow holds for an entry the index lacks. */
#define HMENT_NO_PFN		(~0UL)

/**
 * struct hment_htable - our record of one live page-table page
 * @ht_next:	next in its bucket of the hat's htable hash (struct
 *		hment_htable_hash)
 * @ht_va:	first virtual address its entries map
 * @ht_level:	0 when its leaves map 4K, 1 for 2M, 2 for 1G
 * @ht_pfn:	pfn of the page-table page
 * @ht_hat:	address space it belongs to
 * @ht_shadow:	per entry, the pfn the index holds for it plus one, or 0;
 *		written under that pfn's mapping-list lock. It lets a
 *		mapping be removed by (htable, entry) alone, without reading
 *		a page table that may be gone. In blocks of
 *		HMENT_SHADOW_ENTRIES u32 (unsigned long when HMENT_HT_WIDE),
 *		each set once, before its first entry is, and NULL until
 *		then; see hment_htable_shadow()
 * @ht_flags:	HMENT_HT_STALE: some of its entries could not be indexed
 *		(allocation failed) or were stolen; the next sync redoes it.
 *		HMENT_HT_WIDE: pfns past 32 bits, set at creation
 * @ht_busy:	non-zero while a sync works on it: never stolen from then
 * @ht_lock_cnt: leaves in VM_LOCKED VMAs: never stolen from while non-zero
 * @ht_valid_cnt: index entries (embedded or hment) that name this htable
 * @ht_gen:	the last sync of its hat that found the page-table page
 * @ht_seen:	entries that sync found mapped (valid while @ht_gen is it);
 *		only the owner's sync reads it, never once the htable is out
 *		of the hash, so @ht_rcu shares its room (256 bytes, not 272)
 * @ht_rcu:	freed after a grace period: notifiers and hment_verify()
 *		find htables under RCU
 * @ht_mlocked:	entries whose leaf is in a VM_LOCKED VMA
 *
 * An htable is freed only when @ht_valid_cnt is zero, so anything that
 * reaches it through an index entry under a mapping-list lock may use it.
 */
struct hment_htable {
	/* what a lookup compares, in its first cache line */
	struct hment_htable __rcu *ht_next;
	unsigned long ht_va;
	u8 ht_level;
	unsigned long ht_pfn;
	struct hment_hat *ht_hat;
	void *ht_shadow[HMENT_SHADOW_BLOCKS];
	unsigned long ht_flags;
	atomic_t ht_busy;
	atomic_t ht_lock_cnt;
	atomic_t ht_valid_cnt;
	u32 ht_gen;
	union {
		DECLARE_BITMAP(ht_seen, HMENT_ENTRIES);
		struct rcu_head ht_rcu;
	};
	DECLARE_BITMAP(ht_mlocked, HMENT_ENTRIES);
};

/**
 * struct hment_htable_hash - a hat's htables by (level, address)
 * @rcu:	the table a resize replaced is freed after a grace period
 * @bits:	log2 of the number of buckets
 * @buckets:	chains of htables through &hment_htable.ht_next
 *
 * After illumos's hat_ht_hash: each hat hashes only its own htables, so
 * the table follows their number, not the address space's sparse extent
 * (an xarray keyed by address >> 21 needs several nodes of 576 bytes for
 * a process's few tables). It starts small and doubles (hment_htable_get()).
 */
struct hment_htable_hash {
	struct rcu_head rcu;
	unsigned int bits;
	struct hment_htable __rcu *buckets[];
};

#define HMENT_HT_HASH_BITS		4	/* a process's first table */
#define HMENT_HT_HASH_BITS_KERNEL	6

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
	spinlock_t inv_lock;		/* innermost */
	unsigned int inv_wide_active;
	unsigned long inv_wide_seq;
	unsigned int inv_active[HMENT_INV_BUCKETS];
	unsigned long inv_seq[HMENT_INV_BUCKETS];
	bool dead;
	u32 gen;
	char comm[TASK_COMM_LEN];
};

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
 * @calls:	allocations seen at those sites, for @every
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
 * struct hment_sync_stats - what one sync did
 * @duration_ns: wall time
 * @hats:	address spaces walked
 * @tables:	page-table pages examined
 * @entries:	entries examined
 * @leaves:	counted leaves found (raw walk only)
 * @added:	mappings added to the index
 * @removed:	mappings removed from it
 * @errors:	mappings that could not be indexed
 * @retries:	table passes undone because an invalidation raced
 */
struct hment_sync_stats {
	u64 duration_ns;
	unsigned long hats;
	unsigned long tables;
	unsigned long entries;
	unsigned long leaves;
	unsigned long added;
	unsigned long removed;
	unsigned long errors;
	unsigned long retries;
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
 * @buckets:	chains, singly linked through hm_hashnext
 * @mask:	number of buckets minus one
 */
struct hment_hash_table {
	struct hment **buckets;
	unsigned int mask;
};

/**
 * struct hment_hash_stripe - a hash-bucket lock and what it guards
 * @lock:	guards every bucket whose number is this stripe's modulo the
 *		number of stripes, in both tables, and the fields below
 * @cur:	which of hment_index.hash_tab the stripe's buckets are in
 * @moving:	a resize is moving the stripe's buckets to the other table
 * @moved:	while @moving, how many of them it has moved (in order)
 * @count:	hments in the stripe's buckets
 */
struct hment_hash_stripe {
	spinlock_t lock;		/* see @lock above */
	u8 cur;
	u8 moving;
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
	struct hment **hash;
	unsigned int hash_mask;
	struct hment_hash_table hash_tab[2];	/* current, and the next */
	struct hment_hash_stripe *hash_locks;	/* key k: [k & mask] */
	unsigned int hash_lock_mask;
	unsigned int hash_lock_shift;
	unsigned int hash_min_mask;	/* smallest table, >= one per lock */
	unsigned int hash_max_mask;	/* == min for a fixed size */
	unsigned int hash_grow_at;	/* stripe counts that start a resize */
	unsigned int hash_shrink_at;
	unsigned long hash_resizes;	/* under @freeze_lock */
	struct work_struct hash_work;
	spinlock_t *mlist_locks;	/* see hment_page_lockp() */
	unsigned int mlist_lock_mask;

	struct xarray records;		/* pfn / HMENT_CHUNK_PFNS -> chunk */
	unsigned long max_pfn;

	spinlock_t reserve_lock;	/* innermost; guards the pool */
	struct hment *reserve_pool;
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
	struct hment_sync_stats last_sync;	/* under @sync_lock */
	struct hment_sync_stats last_walk;	/* the raw walk's */
	unsigned long lookup_pfn;	/* what debugfs lookup lists */

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
 * @list:	linked through hm_hashnext
 * @count:	hments on @list
 * @want:	what hment_stock_fill() tops up to
 * @ran_dry:	a pass needed more than it had: fill more next time
 *
 * Private to its sync: no lock.
 */
struct hment_stock {
	struct hment *list;
	unsigned int count;
	unsigned int want;
	bool ran_dry;
};

/* The largest lock arrays an index may have (see hment_params_check()). */
#define HMENT_MAX_LOCKS		BIT(16)

/* main.c */
extern struct kmem_cache *hment_cache;
extern struct kmem_cache *hment_htable_cache;
extern struct kmem_cache *hment_records_cache;
extern struct kmem_cache *hment_shadow_cache;

/* index.c */
struct hment_index *hment_index_create(const struct hment_params *params);
spinlock_t *hment_locks_alloc(unsigned int n, struct lock_class_key *class);
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
struct hment *hment_steal_from_page(struct hment_index *idx,
				    unsigned long pfn);

/* page.c: per-pfn records and their locks */
struct hment_page *hment_page_get(struct hment_index *idx, unsigned long pfn,
				  gfp_t gfp);
int hment_pages_init(struct hment_index *idx, const struct hment_params *p);
void hment_pages_destroy(struct hment_index *idx);

/* hash.c */
unsigned int hment_hash_index(struct hment_index *idx, unsigned long ptpfn,
			      unsigned int entry);
void hment_hash_insert(struct hment_index *idx, struct hment *hm);
struct hment *hment_hash_remove(struct hment_index *idx,
				struct hment_htable *ht, unsigned int entry,
				unsigned long pfn);
struct hment *hment_hash_find(struct hment_index *idx, struct hment_htable *ht,
			      unsigned int entry, unsigned long pfn);
void hment_hash_chains(struct hment_index *idx, unsigned long *longest,
		       unsigned long *used_buckets);
int hment_hash_resize(struct hment_index *idx, unsigned int buckets);
unsigned long hment_hash_count(struct hment_index *idx);
bool hment_hash_key_moved(struct hment_index *idx, unsigned long ptpfn,
			  unsigned int entry);
u64 hment_hash_bytes(struct hment_index *idx);
int hment_hash_init(struct hment_index *idx, const struct hment_params *p);
void hment_hash_destroy(struct hment_index *idx);

/* alloc.c: kmem_cache, reserve pool, stealing, fault injection */
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

/* htable.c */
unsigned int hment_level_shift(unsigned int level);
struct hment_htable *hment_htable_get(struct hment_hat *hat,
				      unsigned int level, unsigned long va,
				      unsigned long ptpfn);
struct hment_htable *hment_htable_lookup(struct hment_hat *hat,
					 unsigned int level, unsigned long va);
int hment_htable_put(struct hment_htable *ht);
int hment_htables_init(struct hment_hat *hat);
int hment_htable_hash_resize(struct hment_hat *hat, unsigned int bits);
void hment_htables_destroy(struct hment_hat *hat);
u64 hment_htables_hash_bytes(struct hment_hat *hat);
int hment_htable_shadow_prepare(struct hment_index *idx,
				struct hment_htable *ht, unsigned int entry,
				gfp_t gfp);
size_t hment_shadow_block_size(const struct hment_htable *ht);
u64 hment_shadow_block_bytes(const struct hment_index *idx);
void hment_htable_free(struct hment_htable *ht);
void hment_htable_mark_stale(struct hment_index *idx, struct hment_htable *ht);
void hment_htable_clear_stale(struct hment_index *idx,
			      struct hment_htable *ht);
bool hment_htable_stealable(const struct hment_htable *ht);

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
 *		may free that (hment_htable_put())
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

/* hat.c */
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
#else
static inline int hment_hat_track_all(struct hment_index *idx)
{
	return 0;
}

static inline void hment_hat_notifier_stop(struct hment_hat *hat)
{
}
#endif

/* walker.c */
int hment_sync_hat(struct hment_hat *hat, struct hment_sync_stats *st,
		   bool record);
int hment_sync_all(struct hment_index *idx, struct hment_sync_stats *st,
		   bool record);
int hment_sync_pid(struct hment_index *idx, pid_t pid,
		   struct hment_sync_stats *st, bool record);

/* stats.c */
long hment_stat_read(struct hment_index *idx, enum hment_stat_item item);
const char *hment_stat_name(enum hment_stat_item item);
void hment_stats_print(struct hment_index *idx, struct seq_buf *s);

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

/* parse.c */
enum hment_track_op {
	HMENT_TRACK_PID,
	HMENT_UNTRACK_PID,
	HMENT_TRACK_ALL,
	HMENT_UNTRACK_ALL,
};

struct hment_track_cmd {
	enum hment_track_op op;
	pid_t pid;
};

int hment_parse_pfn(const char *s, unsigned long max_pfn, unsigned long *pfn);
int hment_parse_track(const char *s, struct hment_track_cmd *cmd);
int hment_parse_sync(const char *s, pid_t *pid);

/* Hot paths: inline, so that lockdep assertions cost nothing without lockdep. */

/**
 * hment_page - find the record of a pfn, if it has one
 * @idx: index
 * @pfn: page frame number
 *
 * Return: the record, or NULL when @pfn is out of range or its chunk was
 * never allocated (so the pfn was never mapped).
 */
static inline struct hment_page *hment_page(struct hment_index *idx,
					    unsigned long pfn)
{
	struct hment_page *chunk;

	if (pfn >= idx->max_pfn)
		return NULL;
	/* The xarray publishes a chunk after it was zeroed, and never frees it. */
	chunk = xa_load(&idx->records, pfn >> HMENT_CHUNK_SHIFT);
	if (!chunk)
		return NULL;
	return &chunk[pfn & (HMENT_CHUNK_PFNS - 1)];
}

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

/**
 * hment_htable_shadow - the pfn the index holds for an entry
 * @ht: the htable
 * @entry: the entry
 *
 * Return: the pfn, or HMENT_NO_PFN; stable only under that pfn's
 * mapping-list lock.
 */
static inline unsigned long hment_htable_shadow(const struct hment_htable *ht,
						unsigned int entry)
{
	/* a block is set once, zeroed, and stays until the htable goes */
	const void *blk = READ_ONCE(ht->ht_shadow[entry >> HMENT_SHADOW_SHIFT]);
	unsigned int i = entry & (HMENT_SHADOW_ENTRIES - 1);

	if (!blk)
		return HMENT_NO_PFN;
	if (unlikely(test_bit(HMENT_HT_WIDE, &ht->ht_flags)))
		return READ_ONCE(((const unsigned long *)blk)[i]) - 1;
	/* 0 - 1 is HMENT_NO_PFN in unsigned long too */
	return (unsigned long)READ_ONCE(((const u32 *)blk)[i]) - 1;
}

/**
 * hment_htable_set_shadow - note the pfn the index holds for an entry
 * @ht: the htable
 * @entry: the entry; its block was set by hment_htable_shadow_prepare()
 * @pfn: the pfn, or HMENT_NO_PFN
 *
 * Context: the mapping-list lock of the pfn named before and after.
 */
static inline void hment_htable_set_shadow(struct hment_htable *ht,
					   unsigned int entry,
					   unsigned long pfn)
{
	void *blk = ht->ht_shadow[entry >> HMENT_SHADOW_SHIFT];
	unsigned int i = entry & (HMENT_SHADOW_ENTRIES - 1);

	if (WARN_ON_ONCE(!blk))
		return;
	if (unlikely(test_bit(HMENT_HT_WIDE, &ht->ht_flags)))
		WRITE_ONCE(((unsigned long *)blk)[i], pfn + 1);
	else
		WRITE_ONCE(((u32 *)blk)[i], (u32)(pfn + 1));
}

/* verify.c */
unsigned long hment_verify(struct hment_index *idx, struct seq_buf *s,
			   bool quiet);

/* debugfs.c (x86 only, see above) */
#ifdef CONFIG_X86
void hment_debugfs_init(struct hment_index *idx);
void hment_debugfs_exit(void);
#else
static inline void hment_debugfs_init(struct hment_index *idx)
{
}

static inline void hment_debugfs_exit(void)
{
}
#endif

#endif /* _HMENT_H */
