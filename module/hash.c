// SPDX-License-Identifier: GPL-2.0
/*
 * The system-wide hash of listed hments, keyed by (page-table pfn, entry).
 *
 * Only hments are hashed: a page mapped once keeps its mapping embedded in
 * its record, where the remover finds it without the hash. Chains are
 * singly linked; a remover has to walk the chain to find its hment anyway.
 *
 * The table is sized by what it holds: it starts with one bucket per lock
 * stripe and grows (or shrinks) when the hments outgrow it (or leave it),
 * to any multiple of the number of stripes (a power of two). Bucket b is
 * guarded by stripe b modulo the number of stripes, and a key's bucket is
 * in its stripe's column in every size (hment_bucket_in()): so a stripe's
 * hments stay under its lock when they move to a table of another size.
 * A resize therefore moves one stripe at a time, a bounded batch of
 * buckets per lock hold, and never holds two stripe locks: a stripe that
 * is part way through notes how many of its buckets have moved, and a
 * mapper under that stripe's lock looks in the old table or the new one
 * accordingly.
 *
 * Resizes run from a work item (mappers only count their stripe's hments
 * and queue it when a count crosses a threshold), never under a page-table
 * lock, and under &hment_index.freeze_lock, which hment_verify() holds to
 * see the hash whole.
 */
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <kunit/visibility.h>

#include "hment.h"
#include "internal.h"
#include "htable.h"

/* Buckets moved per hold of a stripe lock during a resize. */
#define HMENT_HASH_BATCH	64

/*
 * Largest table: 16M buckets (64 MB) keep chains short up to 24M hments,
 * a terabyte of shared mappings.
 */
#define HMENT_HASH_MAX_SHIFT	24

/*
 * Loads (hments per bucket), in percent. With keys spread as by chance, a
 * load of 1.5 puts 1.93 hments in each used bucket: above it the table
 * grows, to a load of 1.1 (by about a third: a bucket is 4 bytes, so 2.7
 * to 3.6 per hment). Every resize moves every hment: growing this way
 * moves each about 3.7 times in all, by a quarter (to 1.2) 5 times,
 * doubling twice but leaves up to 5.3 bytes per hment. Below a load of
 * 0.25 it shrinks to 1.1 again; the gap keeps a table from flapping.
 */
#define HMENT_HASH_GROW_PCT	150
#define HMENT_HASH_SIZE_PCT	110
#define HMENT_HASH_SHRINK_PCT	25

/*
 * A table sized ahead of hments still to come (hment_hash_expect()) is
 * sized for a load between the two above: nothing moves while they
 * arrive, and at a load of 1.3 a bucket is 3.1 bytes per hment.
 */
#define HMENT_HASH_EXPECT_PCT	130

/*
 * The seed hashed the page-table page and the entry together. Here the
 * page-table page is named by its htable's id, which is what an hment
 * holds beside its entry: the key is the hment's own &hment.hm_ht_entry,
 * and a resize rehashes an hment without looking at its htable. The same
 * entry recurs in every process that maps a shared library at the same
 * address; the id tells those apart (see hment_bucket_in()).
 */
static unsigned long hment_hash_key(const struct hment_htable *ht,
				    unsigned int entry)
{
	return ht->ht_id << HMENT_LEVEL_SHIFT | entry;
}

static unsigned long hment_key_of(const struct hment *hm)
{
	return hm->hm_ht_entry;
}

/*
 * A key's bucket in a table of @size: its stripe's column (the key's low
 * bits, the entry's), in a row picked by the rest of the key (the htable
 * id and the entry's high bit). The row is the rest hashed
 * multiplicatively and scaled onto the rows there are (no division, and
 * any number of rows): ids handed out in a row land spread evenly, and the
 * entries of one table fill neighbouring buckets of two rows. The row is
 * also the bucket's place among its stripe's, the order in which a resize
 * moves them.
 */
static u32 hment_row_in(const struct hment_index *idx, unsigned int size,
			unsigned long key)
{
	return ((u64)hash_64(key >> idx->hash_lock_shift, 32) *
		(size >> idx->hash_lock_shift)) >> 32;
}

static unsigned long hment_bucket_in(const struct hment_index *idx,
				     unsigned int size, unsigned long key)
{
	return (unsigned long)hment_row_in(idx, size, key) <<
	       idx->hash_lock_shift | (key & idx->hash_lock_mask);
}

/**
 * hment_hash_index - bucket of an (htable, entry) key
 * @idx: index
 * @ht: htable of the page-table page
 * @entry: entry within it
 *
 * Return: the bucket number in the complete table (&hment_index.hash),
 * meaningful while no resize runs (under &hment_index.freeze_lock).
 */
unsigned int hment_hash_index(struct hment_index *idx,
			      const struct hment_htable *ht, unsigned int entry)
{
	return hment_bucket_in(idx, idx->hash_size, hment_hash_key(ht, entry));
}
EXPORT_SYMBOL_IF_KUNIT(hment_hash_index);

static struct hment_hash_stripe *hment_stripe(struct hment_index *idx,
					      unsigned long key)
{
	return &idx->hash_locks[key & idx->hash_lock_mask];
}

/* The bucket a key lives in right now, old table or new. */
static u32 *hment_bucketp(struct hment_index *idx, struct hment_hash_stripe *s,
			  unsigned long key)
{
	struct hment_hash_table *t = &idx->hash_tab[s->cur];

	lockdep_assert_held(&s->lock);
	if (s->moving && hment_row_in(idx, t->size, key) < s->moved)
		t = &idx->hash_tab[!s->cur];
	return hment_hash_bucket(t, hment_bucket_in(idx, t->size, key));
}

static bool hment_matches(const struct hment *hm,
			  const struct hment_htable *ht, unsigned int entry)
{
	return hm->hm_ht_entry == (ht->ht_id << HMENT_LEVEL_SHIFT | entry);
}

/*
 * An (htable, entry) is indexed for one pfn at a time, the one its shadow
 * names; the shadow changes only under the list lock of the pfn it names
 * before and after, so under @pfn's lock this tells whether a listed
 * mapping of (@ht, @entry) is @pfn's.
 */
static bool hment_key_is_pfns(const struct hment_htable *ht,
			      unsigned int entry, unsigned long pfn)
{
	return entry < HMENT_ENTRIES && hment_htable_shadow(ht, entry) == pfn;
}

/* Queue a resize when a stripe's count crosses a threshold. */
static void hment_hash_check(struct hment_index *idx,
			     struct hment_hash_stripe *s, unsigned int at)
{
	if (s->count == at)
		queue_work(system_unbound_wq, &idx->hash_work);
}

/* An insert: queue a resize when the stripe has used up its room. */
static void hment_hash_check_room(struct hment_index *idx,
				  struct hment_hash_stripe *s)
{
	if (s->room && !--s->room)
		queue_work(system_unbound_wq, &idx->hash_work);
}

/**
 * hment_hash_insert - add a listed hment to the hash
 * @idx: index
 * @hm: hment with htable and entry set
 * @pfn: the page it maps
 *
 * Context: the mapping-list lock of @pfn is held.
 */
void hment_hash_insert(struct hment_index *idx, struct hment *hm,
		       unsigned long pfn)
{
	unsigned long key = hment_key_of(hm);
	struct hment_hash_stripe *s = hment_stripe(idx, key);
	u32 *bucket;

	lockdep_assert_held(hment_page_lockp(idx, pfn));
	spin_lock(&s->lock);
	bucket = hment_bucketp(idx, s, key);
	hm->hm_hashnext = *bucket;
	*bucket = hment_id(hm);
	s->count++;
	hment_hash_check_room(idx, s);
	spin_unlock(&s->lock);
}

/**
 * hment_hash_find - look up a listed mapping
 * @idx: index
 * @ht: page-table page
 * @entry: entry within it
 * @pfn: the page it maps
 *
 * Context: the mapping-list lock of @pfn is held, so the hment stays.
 * Return: the hment, or NULL.
 */
struct hment *hment_hash_find(struct hment_index *idx, struct hment_htable *ht,
			      unsigned int entry, unsigned long pfn)
{
	unsigned long key = hment_hash_key(ht, entry);
	struct hment_hash_stripe *s = hment_stripe(idx, key);
	struct hment *hm;

	lockdep_assert_held(hment_page_lockp(idx, pfn));
	if (!hment_key_is_pfns(ht, entry, pfn))
		return NULL;
	spin_lock(&s->lock);
	for (hm = hment_ptr(idx, *hment_bucketp(idx, s, key)); hm;
	     hm = hment_ptr(idx, hm->hm_hashnext))
		if (hment_matches(hm, ht, entry))
			break;
	spin_unlock(&s->lock);
	return hm;
}
EXPORT_SYMBOL_IF_KUNIT(hment_hash_find);

/**
 * hment_hash_remove - take a listed mapping out of the hash
 * @idx: index
 * @ht: page-table page
 * @entry: entry within it
 * @pfn: the page it maps
 *
 * Context: the mapping-list lock of @pfn is held.
 * Return: the unhashed hment, still on its page's list, or NULL if absent.
 */
struct hment *hment_hash_remove(struct hment_index *idx,
				struct hment_htable *ht, unsigned int entry,
				unsigned long pfn)
{
	unsigned long key = hment_hash_key(ht, entry);
	struct hment_hash_stripe *s = hment_stripe(idx, key);
	struct hment *hm;
	u32 *link;

	lockdep_assert_held(hment_page_lockp(idx, pfn));
	if (!hment_key_is_pfns(ht, entry, pfn))
		return NULL;
	spin_lock(&s->lock);
	for (link = hment_bucketp(idx, s, key); (hm = hment_ptr(idx, *link));
	     link = &hm->hm_hashnext) {
		if (hment_matches(hm, ht, entry)) {
			*link = hm->hm_hashnext;
			hm->hm_hashnext = 0;
			s->count--;
			hment_hash_check(idx, s,
					 READ_ONCE(idx->hash_shrink_at));
			break;
		}
	}
	spin_unlock(&s->lock);
	return hm;
}

/**
 * hment_hash_count - hments in the hash
 * @idx: index
 *
 * Return: the sum of the stripes' counts, read without their locks: exact
 * only when the index is quiet.
 */
unsigned long hment_hash_count(struct hment_index *idx)
{
	unsigned long n = 0;
	unsigned int i;

	for (i = 0; i <= idx->hash_lock_mask; i++)
		n += READ_ONCE(idx->hash_locks[i].count);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(hment_hash_count);

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * hment_hash_key_moved - is a key's bucket part way through a resize, moved?
 * @idx: index
 * @ht: htable of the page-table page
 * @entry: entry within it
 *
 * For tests that map and unmap between two batches of a resize.
 *
 * Return: true when the key's stripe is being moved and its bucket already
 * was: mappers must find the key in the new table.
 */
bool hment_hash_key_moved(struct hment_index *idx,
			  const struct hment_htable *ht, unsigned int entry)
{
	unsigned long key = hment_hash_key(ht, entry);
	struct hment_hash_stripe *s = hment_stripe(idx, key);
	bool moved;

	spin_lock(&s->lock);
	moved = s->moving &&
		hment_row_in(idx, idx->hash_tab[s->cur].size, key) < s->moved;
	spin_unlock(&s->lock);
	return moved;
}
EXPORT_SYMBOL_IF_KUNIT(hment_hash_key_moved);
#endif

/**
 * hment_hash_chains - measure the hash chains
 * @idx: index
 * @longest: set to the longest chain
 * @used_buckets: set to the number of non-empty buckets
 *
 * Each bucket is read under its lock, with resizes held off; the figures
 * are a snapshot only when the index is quiet.
 *
 * Context: process context; takes &hment_index.freeze_lock.
 */
void hment_hash_chains(struct hment_index *idx, unsigned long *longest,
		       unsigned long *used_buckets)
{
	unsigned long bucket, len;
	struct hment_hash_stripe *s;
	u32 id;

	*longest = 0;
	*used_buckets = 0;
	mutex_lock(&idx->freeze_lock);
	for (bucket = 0; bucket < idx->hash_size; bucket++) {
		s = hment_stripe(idx, bucket);
		len = 0;
		spin_lock(&s->lock);
		for (id = *hment_hash_bucket(idx->hash, bucket); id;
		     id = hment_ptr(idx, id)->hm_hashnext)
			len++;
		spin_unlock(&s->lock);
		if (len)
			(*used_buckets)++;
		*longest = max(*longest, len);
		if (!(bucket & 4095))
			cond_resched();
	}
	mutex_unlock(&idx->freeze_lock);
}
EXPORT_SYMBOL_IF_KUNIT(hment_hash_chains);

/* Bytes a table takes, slab or vmalloc rounding included. */
static u64 hment_table_bytes(const struct hment_hash_table *t)
{
	unsigned int n = DIV_ROUND_UP(t->size, HMENT_HASH_PAGE_BUCKETS);
	size_t dir = array_size(n, sizeof(*t->pages));
	unsigned int last = t->size - (n - 1) * HMENT_HASH_PAGE_BUCKETS;

	return (is_vmalloc_addr(t->pages) ? PAGE_ALIGN(dir) :
		kmalloc_size_roundup(dir)) +
	       (u64)(n - 1) * kmalloc_size_roundup(PAGE_SIZE) +
	       kmalloc_size_roundup(last * sizeof(u32));
}

/**
 * hment_hash_bytes - memory the hash holds
 * @idx: index
 *
 * Return: bytes of the complete table and of the stripes.
 */
u64 hment_hash_bytes(struct hment_index *idx)
{
	unsigned int stripes = idx->hash_lock_mask + 1;

	return hment_table_bytes(idx->hash) +
	       kmalloc_size_roundup(array_size(stripes,
					       sizeof(*idx->hash_locks)));
}

/* A table for @n hments at a load of @pct percent, within the bounds. */
static unsigned int hment_hash_size_for(struct hment_index *idx,
					unsigned long n, unsigned int pct)
{
	unsigned long want;

	/*
	 * Any multiple of the stripes: the table is kmalloc'd page by page,
	 * and only its last piece is rounded up by kmalloc.
	 */
	want = round_up(DIV_ROUND_UP(100 * n, pct), idx->hash_lock_mask + 1UL);
	return clamp(want, (unsigned long)idx->hash_min,
		     (unsigned long)idx->hash_max);
}

/* What the table should be for @n hments: see HMENT_HASH_GROW_PCT. */
static unsigned int hment_hash_want_size(struct hment_index *idx,
					 unsigned long n)
{
	unsigned long size = idx->hash_size;

	if (100 * n > HMENT_HASH_GROW_PCT * size ||
	    100 * n < HMENT_HASH_SHRINK_PCT * size)
		return hment_hash_size_for(idx, n, HMENT_HASH_SIZE_PCT);
	return size;
}

/*
 * When mappers ask for a resize. Growing: the room left below the growth
 * load (its hments less the ones there are) is shared out among the
 * stripes, and a stripe asks once it has taken its part and one more.
 * Until one asks the load cannot pass the threshold, however the hments
 * spread: a count shared by the stripes could not promise that, since an
 * even spread fills every stripe to just below it, and a stripe that
 * passed it while a resize ran never met it again. Each time the work
 * finds the table fits it shares out what room is left, so stripes ask
 * more often as the table fills. Shrinking is only memory: a shared
 * count, a little below a stripe's share, does.
 */
static void hment_hash_set_thresholds(struct hment_index *idx)
{
	unsigned int per = idx->hash_size >> idx->hash_lock_shift;
	unsigned long limit, n, room;
	struct hment_hash_stripe *s;
	unsigned int i, part;

	lockdep_assert_held(&idx->freeze_lock);
	limit = (unsigned long)idx->hash_size * HMENT_HASH_GROW_PCT / 100;
	n = hment_hash_count(idx);
	room = limit > n ? limit - n : 0;
	for (i = 0; i <= idx->hash_lock_mask; i++) {
		s = &idx->hash_locks[i];
		part = (room >> idx->hash_lock_shift) +
		       (i < (room & idx->hash_lock_mask));
		spin_lock(&s->lock);
		/* a table that cannot grow never asks */
		s->room = idx->hash_size >= idx->hash_max ? 0 :
			  min_t(unsigned int, part + 1, U16_MAX);
		spin_unlock(&s->lock);
	}
	if (idx->hash_min == idx->hash_max) {
		WRITE_ONCE(idx->hash_shrink_at, UINT_MAX);
		return;
	}
	WRITE_ONCE(idx->hash_shrink_at,
		   idx->hash_size == idx->hash_min ? UINT_MAX :
		   per * HMENT_HASH_SHRINK_PCT / 100 > 2 ?
		   per * HMENT_HASH_SHRINK_PCT / 100 - 2 : 0);
}

static void hment_table_free(struct hment_hash_table *t)
{
	unsigned int i;

	if (!t->pages)
		return;
	for (i = 0; i < DIV_ROUND_UP(t->size, HMENT_HASH_PAGE_BUCKETS); i++)
		kfree(t->pages[i]);
	kvfree(t->pages);
	t->pages = NULL;
}

/* See struct hment_hash_table. */
static int hment_table_alloc(struct hment_index *idx,
			     struct hment_hash_table *t, unsigned int size)
{
	unsigned int i, n = DIV_ROUND_UP(size, HMENT_HASH_PAGE_BUCKETS);

	if (hment_should_fail(&idx->fault, HMENT_FAULT_INDEX))
		return -ENOMEM;
	t->pages = kvcalloc(n, sizeof(*t->pages), GFP_KERNEL);
	if (!t->pages)
		return -ENOMEM;
	t->size = size;
	for (i = 0; i < n; i++) {
		t->pages[i] = kcalloc(min_t(unsigned int, size - i * HMENT_HASH_PAGE_BUCKETS,
					    HMENT_HASH_PAGE_BUCKETS),
				      sizeof(u32), GFP_KERNEL);
		if (!t->pages[i]) {
			hment_table_free(t);
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * Move up to HMENT_HASH_BATCH of @s's buckets to the other table.
 * Return: true when the stripe has none left in the old one.
 */
static bool hment_stripe_move(struct hment_index *idx,
			      struct hment_hash_stripe *s, unsigned int stripe)
{
	struct hment_hash_table *from = &idx->hash_tab[s->cur];
	struct hment_hash_table *to = &idx->hash_tab[!s->cur];
	unsigned int n = from->size >> idx->hash_lock_shift;
	unsigned int end = min(n, s->moved + HMENT_HASH_BATCH);
	u32 *old, *new, id;
	struct hment *hm;
	unsigned long key;

	lockdep_assert_held(&s->lock);
	for (; s->moved < end; s->moved++) {
		old = hment_hash_bucket(from, stripe +
					(s->moved << idx->hash_lock_shift));
		while ((id = *old)) {
			hm = hment_ptr(idx, id);
			*old = hm->hm_hashnext;
			key = hment_key_of(hm);
			/* same stripe in every size: still under our lock */
			new = hment_hash_bucket(to, hment_bucket_in(idx, to->size,
								    key));
			hm->hm_hashnext = *new;
			*new = id;
		}
	}
	return s->moved == n;
}

static void hment_run_resize_hook(struct hment_index *idx)
{
#if IS_ENABLED(CONFIG_KUNIT)
	if (idx->resize_hook)
		idx->resize_hook(idx, idx->resize_hook_data);
#endif
}

/* Caller holds freeze_lock; the table size changes to @size. */
static int hment_hash_resize_locked(struct hment_index *idx, unsigned int size)
{
	struct hment_hash_stripe *s;
	struct hment_hash_table *from, *to;
	unsigned int cur, i;
	bool done;
	int err;

	lockdep_assert_held(&idx->freeze_lock);
	if (size == idx->hash_size)
		return 0;
	/* every stripe is in the same table between resizes */
	cur = idx->hash_locks[0].cur;
	from = &idx->hash_tab[cur];
	to = &idx->hash_tab[!cur];
	err = hment_table_alloc(idx, to, size);
	if (err)
		return err;

	for (i = 0; i <= idx->hash_lock_mask; i++) {
		s = &idx->hash_locks[i];
		spin_lock(&s->lock);
		s->moving = 1;
		s->moved = 0;
		for (;;) {
			done = hment_stripe_move(idx, s, i);
			if (done)
				break;
			spin_unlock(&s->lock);
			hment_run_resize_hook(idx);
			cond_resched();
			spin_lock(&s->lock);
		}
		s->cur = !cur;
		s->moving = 0;
		s->moved = 0;
		spin_unlock(&s->lock);
	}

	/* no stripe points at the old table any more, nor can again */
	hment_table_free(from);
	idx->hash = to;
	idx->hash_size = to->size;
	idx->hash_resizes++;
	hment_hash_set_thresholds(idx);
	return 0;
}

/**
 * hment_hash_resize - give the hash a number of buckets
 * @idx: index
 * @buckets: a multiple of the number of stripes within the index's bounds;
 *	     0 to size it by the hments it holds now
 *
 * Mappers go on meanwhile; see the top of this file.
 *
 * Context: process context; takes &hment_index.freeze_lock.
 * Return: 0, -EINVAL for a size out of bounds, -ENOMEM.
 */
int hment_hash_resize(struct hment_index *idx, unsigned int buckets)
{
	unsigned int size;
	int err;

	mutex_lock(&idx->freeze_lock);
	size = buckets ?: hment_hash_want_size(idx, hment_hash_count(idx));
	if (size & idx->hash_lock_mask || size < idx->hash_min ||
	    size > idx->hash_max)
		err = -EINVAL;
	else
		err = hment_hash_resize_locked(idx, size);
	mutex_unlock(&idx->freeze_lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(hment_hash_resize);

/**
 * hment_hash_expect - size the hash ahead of hments about to be added
 * @idx: index
 * @more: how many are expected
 *
 * A sync that adds many hments at once (the first of a process) would
 * otherwise grow the table several times under itself, and each resize
 * moves every hment while the sync waits on the stripe locks it holds.
 * When the hments there are and @more would push the table past its
 * growth threshold, it is grown now, once, to hold them all at a load of
 * HMENT_HASH_EXPECT_PCT. It never shrinks here: an estimate that was too
 * high is corrected by the usual shrinking as hments go.
 *
 * Context: process context; takes &hment_index.freeze_lock.
 * Return: 0, or -ENOMEM (the table stays and grows as usual).
 */
int hment_hash_expect(struct hment_index *idx, unsigned long more)
{
	unsigned int size;
	unsigned long n;
	int err = 0;

	mutex_lock(&idx->freeze_lock);
	n = hment_hash_count(idx) + more;
	if (100 * n > HMENT_HASH_GROW_PCT * (unsigned long)idx->hash_size) {
		size = hment_hash_size_for(idx, n, HMENT_HASH_EXPECT_PCT);
		err = hment_hash_resize_locked(idx, size);
	}
	mutex_unlock(&idx->freeze_lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(hment_hash_expect);

static void hment_hash_work(struct work_struct *work)
{
	struct hment_index *idx = container_of(work, struct hment_index,
					       hash_work);
	unsigned int size;

	mutex_lock(&idx->freeze_lock);
	/*
	 * Mappers go on while a resize runs, so size again from the count
	 * until it fits (the hysteresis of hment_hash_want_size() makes that
	 * converge), and share out the room left. A failed allocation
	 * leaves the old table, which still works.
	 */
	for (;;) {
		size = hment_hash_want_size(idx, hment_hash_count(idx));
		if (size != idx->hash_size) {
			if (hment_hash_resize_locked(idx, size))
				break;
			continue;
		}
		/* it fits: share out the room left, then look once more */
		hment_hash_set_thresholds(idx);
		if (hment_hash_want_size(idx, hment_hash_count(idx)) ==
		    idx->hash_size)
			break;
	}
	mutex_unlock(&idx->freeze_lock);
}

/**
 * hment_hash_init - allocate the first table and the stripes
 * @idx: index being built
 * @p: its parameters (power-of-two counts, already checked): a fixed size,
 *     or 0 to grow and shrink from one bucket per stripe
 *
 * Return: 0 or -ENOMEM.
 */
int hment_hash_init(struct hment_index *idx, const struct hment_params *p)
{
	static struct lock_class_key hash_lock_class;
	unsigned int i, stripes = p->hash_locks;
	int err;

	INIT_WORK(&idx->hash_work, hment_hash_work);
	/* a fixed table smaller than the stripes needs no more of them */
	if (p->hash_buckets)
		stripes = min(stripes, p->hash_buckets);
	idx->hash_lock_mask = stripes - 1;
	idx->hash_lock_shift = ilog2(stripes);
	idx->hash_min = p->hash_buckets ?: stripes;
	idx->hash_max = p->hash_buckets ?:
			max_t(unsigned int, BIT(HMENT_HASH_MAX_SHIFT), stripes);

	if (hment_should_fail(&idx->fault, HMENT_FAULT_INDEX))
		return -ENOMEM;
	idx->hash_locks = kcalloc(stripes, sizeof(*idx->hash_locks),
				  GFP_KERNEL);
	if (!idx->hash_locks)
		return -ENOMEM;
	for (i = 0; i < stripes; i++) {
		spin_lock_init(&idx->hash_locks[i].lock);
		lockdep_set_class(&idx->hash_locks[i].lock, &hash_lock_class);
	}
	err = hment_table_alloc(idx, &idx->hash_tab[0], idx->hash_min);
	if (err) {
		kfree(idx->hash_locks);
		return err;
	}
	idx->hash = &idx->hash_tab[0];
	idx->hash_size = idx->hash_min;
	/* nobody else sees the index yet; the lock is for lockdep's sake */
	mutex_lock(&idx->freeze_lock);
	hment_hash_set_thresholds(idx);
	mutex_unlock(&idx->freeze_lock);
	return 0;
}

/**
 * hment_hash_destroy - free the table and stripes of an emptied index
 * @idx: index
 *
 * Context: process context; waits for a resize in flight.
 */
void hment_hash_destroy(struct hment_index *idx)
{
	cancel_work_sync(&idx->hash_work);
	WARN_ON_ONCE(hment_hash_count(idx));
	hment_table_free(&idx->hash_tab[0]);
	hment_table_free(&idx->hash_tab[1]);
	kfree(idx->hash_locks);
}
