// SPDX-License-Identifier: GPL-2.0
/*
 * Where hments come from: the kmem_cache, then the reserve pool, then
 * stealing one from a page with several mappings. When all three fail the
 * caller gets NULL and marks what it could not index as stale; nothing
 * here ever panics.
 *
 * Allocations run with GFP_NOWAIT: a mapper may hold page-table locks. The
 * reserve is what makes that safe; it is topped up from process context by
 * hment_reserve() and, between times, by donation: while it is below
 * reserve_amount, a successful cache allocation goes to the reserve and
 * the allocator asks the cache again.
 */
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "hment.h"
#include "internal.h"
#include "htable.h"

/**
 * hment_should_fail - consult the fault-injection knobs for one allocation
 * @fault: the knobs
 * @site: where the allocation is
 *
 * Return: true when this allocation must fail.
 */
bool hment_should_fail(struct hment_fault *fault, enum hment_fault_site site)
{
	int every, sites;
	long calls;

	/* off, as nearly always: two reads of a line nobody writes */
	if (likely(!atomic_read(&fault->nth) && !atomic_read(&fault->every)))
		return false;
	sites = atomic_read(&fault->sites);
	if (sites && !(sites & BIT(site)))
		return false;
	calls = atomic_long_inc_return(&fault->calls);
	every = atomic_read(&fault->every);

	/* Decrements only while positive: 0 means off, 1 means "this one". */
	if (atomic_dec_if_positive(&fault->nth) == 0)
		return true;
	return every > 0 && calls % every == 0;
}

/*
 * Ids: a directory of objects by 32-bit id, for hment chunks and htables.
 * A free id's slot holds the next free id, tagged with bit 0 so that it is
 * never mistaken for an object. The array grows by doubling, at the first
 * id handed out and whenever it is full, outside the lock (a mapper may
 * only be allowed GFP_NOWAIT); the arrays it replaces stay until the index
 * goes, so a reader with an id it got under some lock reads the array
 * without one: what it finds in an old array is what was copied.
 */
#define HMENT_IDS_FIRST		64U
#define HMENT_ID_FREE(next)	((void *)(((unsigned long)(next) << 1) | 1))
#define HMENT_ID_IS_FREE(obj)	((unsigned long)(obj) & 1)
#define HMENT_ID_NEXT(obj)	((u32)((unsigned long)(obj) >> 1))

/**
 * hment_ids_init - an empty directory; nothing is allocated before the
 * first id
 * @ids: the directory
 * @max: the largest id it may hand out
 */
void hment_ids_init(struct hment_ids *ids, u32 max)
{
	memset(ids, 0, sizeof(*ids));
	spin_lock_init(&ids->lock);
	ids->max = max;
}

/**
 * hment_ids_destroy - free a directory whose ids were all given back
 * @ids: the directory
 */
void hment_ids_destroy(struct hment_ids *ids)
{
	unsigned int i;

	WARN_ON_ONCE(ids->used);
	for (i = 0; i < ids->nold; i++)
		kvfree(ids->old[i]);
	kvfree(ids->slots);
	ids->slots = NULL;
	ids->nold = 0;
	ids->size = 0;
}

/* Make the array twice @size, unless someone else already did. */
static int hment_ids_grow(struct hment_ids *ids, u32 size, gfp_t gfp)
{
	u32 n = size ? min_t(u64, 2ULL * size, ids->max + 1ULL) :
		HMENT_IDS_FIRST;
	void **slots;
	u32 i;

	if (size > ids->max || ids->nold == ARRAY_SIZE(ids->old))
		return -ENOSPC;
	slots = kvmalloc_array(n, sizeof(*slots), gfp | __GFP_NOWARN);
	if (!slots)
		return -ENOMEM;
	spin_lock(&ids->lock);
	if (ids->size != size) {
		spin_unlock(&ids->lock);
		kvfree(slots);
		return 0;
	}
	if (size)
		memcpy(slots, ids->slots, size * sizeof(*slots));
	/* id 0 is never handed out; the new ids go first on the free list */
	slots[0] = NULL;
	for (i = max(size, 1U); i < n; i++)
		slots[i] = HMENT_ID_FREE(i + 1 < n ? i + 1 : ids->free);
	ids->free = max(size, 1U);
	if (ids->slots)
		ids->old[ids->nold++] = ids->slots;
	/* readers see the copy whole; pairs with hment_ids_get()'s load */
	smp_store_release(&ids->slots, slots);
	ids->size = n;
	spin_unlock(&ids->lock);
	return 0;
}

/**
 * hment_ids_add - give an object an id
 * @ids: the directory
 * @obj: the object, at least 2-byte aligned
 * @gfp: allocation flags, should the directory have to grow
 *
 * Context: takes @ids->lock; allocates outside it.
 * Return: the id, or 0 when none could be had.
 */
u32 hment_ids_add(struct hment_ids *ids, void *obj, gfp_t gfp)
{
	u32 id, size;

	if (WARN_ON_ONCE(!obj || HMENT_ID_IS_FREE(obj)))
		return 0;
	for (;;) {
		spin_lock(&ids->lock);
		id = ids->free;
		if (id) {
			ids->free = HMENT_ID_NEXT(ids->slots[id]);
			WRITE_ONCE(ids->slots[id], obj);
			ids->used++;
		}
		size = ids->size;
		spin_unlock(&ids->lock);
		if (id)
			return id;
		if (hment_ids_grow(ids, size, gfp))
			return 0;
	}
}

/**
 * hment_ids_del - take an id back
 * @ids: the directory
 * @id: an id it handed out; nobody may look it up any more
 *
 * Context: takes @ids->lock.
 */
void hment_ids_del(struct hment_ids *ids, u32 id)
{
	spin_lock(&ids->lock);
	if (!WARN_ON_ONCE(!id || id >= ids->size ||
			  HMENT_ID_IS_FREE(ids->slots[id]))) {
		WRITE_ONCE(ids->slots[id], HMENT_ID_FREE(ids->free));
		ids->free = id;
		ids->used--;
	}
	spin_unlock(&ids->lock);
}

/**
 * hment_ids_lookup - the object of an id, checked
 * @ids: the directory
 * @id: any value
 *
 * For hment_verify(), which must not trust the ids it finds.
 *
 * Return: the object, or NULL when @id is not handed out.
 */
void *hment_ids_lookup(struct hment_ids *ids, u32 id)
{
	void *obj = NULL;

	spin_lock(&ids->lock);
	if (id && id < ids->size && !HMENT_ID_IS_FREE(ids->slots[id]))
		obj = ids->slots[id];
	spin_unlock(&ids->lock);
	return obj;
}

static u64 hment_array_bytes(void **a, u32 n)
{
	size_t size = array_size(n, sizeof(*a));

	if (!a)
		return 0;
	if (is_vmalloc_addr(a))
		return PAGE_ALIGN(size);
	return kmalloc_size_roundup(size);
}

/**
 * hment_ids_bytes - memory a directory holds, its old arrays included
 * @ids: the directory
 *
 * Return: bytes, slab or vmalloc rounding included.
 */
u64 hment_ids_bytes(struct hment_ids *ids)
{
	u64 bytes;
	u32 size, i;

	spin_lock(&ids->lock);
	bytes = hment_array_bytes(ids->slots, ids->size);
	for (i = 0, size = ids->size / 2; i < ids->nold; i++, size /= 2)
		bytes += hment_array_bytes(ids->old[ids->nold - 1 - i], size);
	spin_unlock(&ids->lock);
	return bytes;
}

/**
 * hment_htable_id_alloc - give a new htable the id its hments name it by
 * @idx: index
 * @ht: the htable, not yet visible
 *
 * Context: process context; may sleep.
 * Return: 0 or -ENOMEM.
 */
int hment_htable_id_alloc(struct hment_index *idx, struct hment_htable *ht)
{
	ht->ht_id = hment_ids_add(&idx->ht_ids, ht, GFP_KERNEL);
	return ht->ht_id ? 0 : -ENOMEM;
}

/**
 * hment_htable_id_free - take back the id of an htable no hment names
 * @idx: index
 * @ht: the htable
 */
void hment_htable_id_free(struct hment_index *idx, struct hment_htable *ht)
{
	if (ht->ht_id)
		hment_ids_del(&idx->ht_ids, ht->ht_id);
	ht->ht_id = 0;
}

/*
 * Chunks: hments are carved out of page-sized chunks from hment_cache, one
 * page of HMENT_HCHUNK_SLOTS slots, slot 0 its header. A chunk with a free
 * slot is on the index's partial list; one that becomes empty goes back to
 * the cache at once, so that memory returns as mappings go (the reserve
 * and the stocks keep a few slots against flapping).
 */
static struct hment_chunk *hment_chunk(struct hment_index *idx, u32 no)
{
	return hment_ids_get(&idx->hm_chunks, no);
}

static void hment_partial_add(struct hment_index *idx, struct hment_chunk *c)
{
	lockdep_assert_held(&idx->chunk_lock);
	c->prev = 0;
	c->next = idx->partial;
	if (c->next)
		hment_chunk(idx, c->next)->prev = c->no;
	idx->partial = c->no;
	c->partial = 1;
}

static void hment_partial_del(struct hment_index *idx, struct hment_chunk *c)
{
	lockdep_assert_held(&idx->chunk_lock);
	if (c->prev)
		hment_chunk(idx, c->prev)->next = c->next;
	else
		idx->partial = c->next;
	if (c->next)
		hment_chunk(idx, c->next)->prev = c->prev;
	c->partial = 0;
}

static struct hment *hment_slot_take(struct hment_index *idx,
				     struct hment_chunk *c)
{
	struct hment *hm = (struct hment *)c + c->free;

	lockdep_assert_held(&idx->chunk_lock);
	c->free = hm->hm_next;
	c->nfree--;
	if (!c->nfree)
		hment_partial_del(idx, c);
	return hm;
}

/* A new chunk, all free but the slot it returns. */
static struct hment *hment_chunk_new(struct hment_index *idx, gfp_t gfp)
{
	struct hment_chunk *c;
	struct hment *slots, *hm;
	unsigned int i;

	c = kmem_cache_zalloc(hment_cache, gfp | __GFP_NOWARN);
	if (!c)
		return NULL;
	if (WARN_ON_ONCE(hment_chunk_of((struct hment *)c) != c))
		goto free;
	c->no = hment_ids_add(&idx->hm_chunks, c, gfp);
	if (!c->no)
		goto free;
	slots = (struct hment *)c;
	for (i = 1; i < HMENT_HCHUNK_SLOTS; i++)
		slots[i].hm_next = i + 1 < HMENT_HCHUNK_SLOTS ? i + 1 : 0;
	c->free = 1;
	c->nfree = HMENT_HCHUNK_SLOTS - 1;
	spin_lock(&idx->chunk_lock);
	hm = hment_slot_take(idx, c);
	hment_partial_add(idx, c);
	spin_unlock(&idx->chunk_lock);
	return hm;
free:
	kmem_cache_free(hment_cache, c);
	return NULL;
}

static struct hment *hment_cache_alloc(struct hment_index *idx, gfp_t gfp)
{
	struct hment *hm = NULL;

	BUILD_BUG_ON(sizeof(struct hment_chunk) != sizeof(struct hment));
	BUILD_BUG_ON(HMENT_HCHUNK_SLOTS - 1 > U8_MAX);
	if (hment_should_fail(&idx->fault, HMENT_FAULT_HMENT)) {
		hment_stat_inc(idx, HMENT_STAT_FAULT_INJECTED);
		return NULL;
	}
	spin_lock(&idx->chunk_lock);
	if (idx->partial)
		hm = hment_slot_take(idx, hment_chunk(idx, idx->partial));
	spin_unlock(&idx->chunk_lock);
	if (!hm)
		hm = hment_chunk_new(idx, gfp);
	if (hm)
		hment_stat_inc(idx, HMENT_STAT_CACHE_ALLOC);
	return hm;
}

static void hment_cache_free(struct hment_index *idx, struct hment *hm)
{
	struct hment_chunk *c = hment_chunk_of(hm);
	bool empty;

	hment_stat_inc(idx, HMENT_STAT_CACHE_FREE);
	spin_lock(&idx->chunk_lock);
	memset(hm, 0, sizeof(*hm));
	hm->hm_next = c->free;
	c->free = hment_slot_of(hm);
	c->nfree++;
	empty = c->nfree == HMENT_HCHUNK_SLOTS - 1;
	if (empty) {
		if (c->partial)
			hment_partial_del(idx, c);
		hment_ids_del(&idx->hm_chunks, c->no);
	} else if (!c->partial) {
		hment_partial_add(idx, c);
	}
	spin_unlock(&idx->chunk_lock);
	if (empty)
		kmem_cache_free(hment_cache, c);
}

/**
 * hment_chunk_bytes - memory the hments and both id directories hold
 * @idx: index
 *
 * Return: bytes of chunks (as the slab holds them) and directories.
 */
u64 hment_chunk_bytes(struct hment_index *idx)
{
	u64 chunks = READ_ONCE(idx->hm_chunks.used);

	return chunks * ALIGN(kmem_cache_size(hment_cache), HMENT_HCHUNK_BYTES) +
	       hment_ids_bytes(&idx->hm_chunks) + hment_ids_bytes(&idx->ht_ids);
}

/**
 * hment_chunks_verify - check every chunk's header against its slots
 * @idx: index, quiet: nobody allocates or frees meanwhile
 * @s: gets one line per violation
 * @used: set to the slots in use, summed over the chunks
 *
 * Each chunk is numbered by its id, its free list holds nfree distinct
 * free slots (no htable named), and it is on the partial list exactly
 * when it has a free slot; the partial list links both ways and holds
 * nothing else. One chunk at a time under the chunk lock.
 *
 * Context: process context; may sleep.
 * Return: the number of violations.
 */
unsigned long hment_chunks_verify(struct hment_index *idx, struct seq_buf *s,
				  unsigned long *used)
{
	DECLARE_BITMAP(seen, HMENT_HCHUNK_SLOTS);
	unsigned long errors = 0, partial = 0, listed = 0;
	struct hment_chunk *c;
	struct hment *slots;
	unsigned int n, i;
	u32 no, size, prev;

	*used = 0;
	spin_lock(&idx->hm_chunks.lock);
	size = idx->hm_chunks.size;
	spin_unlock(&idx->hm_chunks.lock);
	for (no = 1; no < size; no++) {
		if (!(no % 64))
			cond_resched();
		/* under the lock: a chunk is freed only once its id is gone */
		spin_lock(&idx->chunk_lock);
		c = hment_ids_lookup(&idx->hm_chunks, no);
		if (!c) {
			spin_unlock(&idx->chunk_lock);
			continue;
		}
		slots = (struct hment *)c;
		bitmap_zero(seen, HMENT_HCHUNK_SLOTS);
		for (i = c->free, n = 0; i && n <= c->nfree; i = slots[i].hm_next) {
			if (i >= HMENT_HCHUNK_SLOTS || test_bit(i, seen) ||
			    slots[i].hm_ht_entry)
				break;
			__set_bit(i, seen);
			n++;
		}
		if (c->no != no || i || n != c->nfree ||
		    c->partial != !!c->nfree) {
			seq_buf_printf(s, "chunk %u: no %u, free %u/%u, partial %u\n",
				       no, c->no, n, c->nfree, c->partial);
			errors++;
		}
		*used += HMENT_HCHUNK_SLOTS - 1 - c->nfree;
		partial += c->partial;
		spin_unlock(&idx->chunk_lock);
	}
	spin_lock(&idx->chunk_lock);
	for (no = idx->partial, prev = 0; no && listed <= partial;
	     prev = no, no = c->next, listed++) {
		c = hment_ids_lookup(&idx->hm_chunks, no);
		if (!c || c->prev != prev || !c->partial)
			break;
	}
	spin_unlock(&idx->chunk_lock);
	if (no || listed != partial) {
		seq_buf_printf(s, "partial list: %lu chunks linked, %lu marked\n",
			       listed, partial);
		errors++;
	}
	return errors;
}

static void hment_reserve_push(struct hment_index *idx, struct hment *hm)
{
	u32 id = hment_id(hm);

	hment_stat_inc(idx, HMENT_STAT_PUT_RESERVE);
	spin_lock(&idx->reserve_lock);
	hm->hm_hashnext = idx->reserve_pool;
	idx->reserve_pool = id;
	WRITE_ONCE(idx->reserve_count, idx->reserve_count + 1);
	spin_unlock(&idx->reserve_lock);
}

static struct hment *hment_reserve_pop(struct hment_index *idx)
{
	struct hment *hm;

	hment_stat_inc(idx, HMENT_STAT_GET_RESERVE);
	spin_lock(&idx->reserve_lock);
	hm = hment_ptr(idx, idx->reserve_pool);
	if (hm) {
		idx->reserve_pool = hm->hm_hashnext;
		WRITE_ONCE(idx->reserve_count, idx->reserve_count - 1);
	}
	spin_unlock(&idx->reserve_lock);
	return hm;
}

static bool hment_reserve_short(struct hment_index *idx)
{
	return READ_ONCE(idx->reserve_count) < READ_ONCE(idx->reserve_amount);
}

/*
 * Visit every pfn in turn, starting where the last steal stopped, so that
 * no single page keeps losing its mappings. Unallocated chunks are skipped
 * whole: they hold no mappings. The caller may hold a page-table lock, so
 * one call examines no more than HMENT_STEAL_SCAN records and skips no
 * more than HMENT_STEAL_SKIPS runs of empty chunks (a search each); when it
 * gives up, the rotor stays where it stopped and the next steal goes on
 * from there. The last chunk may be partial: the scan wraps at max_pfn.
 */
#define HMENT_STEAL_SKIPS	(16 * HMENT_STEAL_SCAN)

static struct hment *hment_steal(struct hment_index *idx)
{
	unsigned long pfn = atomic_long_read(&idx->steal_rotor);
	unsigned int examined = 0, skipped = 0;
	unsigned long next, covered = 0;
	struct hment_page *pg;
	struct hment *hm;

	hment_stat_inc(idx, HMENT_STAT_STEALS);
	if (pfn >= idx->max_pfn)
		pfn = 0;
	while (covered < idx->max_pfn) {
		if (examined == HMENT_STEAL_SCAN ||
		    skipped == HMENT_STEAL_SKIPS) {
			hment_stat_inc(idx, HMENT_STAT_STEAL_GIVEUP);
			break;
		}
		pg = hment_page_find(idx, pfn);
		if (!pg) {
			next = hment_records_next(idx, pfn);
			covered += next - pfn;
			pfn = next == idx->max_pfn ? 0 : next;
			skipped++;
			continue;
		}
		hment_stat_inc(idx, HMENT_STAT_STEAL_EXAM);
		examined++;
		covered++;
		/* Only listed pages have an hment to give; peek unlocked. */
		hm = hment_page_share(pg) ? hment_steal_from_page(idx, pfn) : NULL;
		pfn = pfn + 1 == idx->max_pfn ? 0 : pfn + 1;
		if (hm) {
			atomic_long_set(&idx->steal_rotor, pfn);
			hment_stat_inc(idx, HMENT_STAT_STOLEN);
			return hm;
		}
	}
	atomic_long_set(&idx->steal_rotor, pfn);
	return NULL;
}

/**
 * hment_alloc - get an hment from the cache, the reserve, or by stealing
 * @idx: index
 *
 * Context: may be called with spinlocks held, but no mapping-list lock
 * (stealing takes one).
 * Return: a cleared hment, or NULL when all three sources failed.
 */
struct hment *hment_alloc(struct hment_index *idx)
{
	struct hment *hm;

	hment_stat_inc(idx, HMENT_STAT_ALLOC);
	for (;;) {
		hm = hment_cache_alloc(idx, GFP_NOWAIT);
		if (!hm || !hment_reserve_short(idx))
			break;
		hment_reserve_push(idx, hm);
	}
	if (!hm)
		hm = hment_reserve_pop(idx);
	if (!hm)
		hm = hment_steal(idx);
	if (!hm) {
		hment_stat_inc(idx, HMENT_STAT_ALLOC_FAIL);
		return NULL;
	}
	memset(hm, 0, sizeof(*hm));
	return hm;
}
EXPORT_SYMBOL_IF_KUNIT(hment_alloc);

/**
 * hment_free - give back an hment no longer in the index
 * @idx: index
 * @hm: the hment, unlinked from its list and the hash
 *
 * It refills the reserve first.
 */
void hment_free(struct hment_index *idx, struct hment *hm)
{
	hment_stat_inc(idx, HMENT_STAT_FREE);
	if (hment_reserve_short(idx))
		hment_reserve_push(idx, hm);
	else
		hment_cache_free(idx, hm);
}
EXPORT_SYMBOL_IF_KUNIT(hment_free);

/**
 * hment_reserve_max - the most hments the reserve may be asked to hold
 *
 * A reserve is for the moments the cache fails; a 256th of RAM (8 MB on a
 * 2 GB machine) is far more than one sync can need, and small enough that
 * filling it cannot push the machine into the OOM killer.
 *
 * Return: the bound, at most INT_MAX.
 */
unsigned int hment_reserve_max(void)
{
	unsigned long max = totalram_pages() / 256 *
			    (PAGE_SIZE / sizeof(struct hment));

	return min_t(unsigned long, max, INT_MAX);
}
EXPORT_SYMBOL_IF_KUNIT(hment_reserve_max);

/**
 * hment_reserve - fill the reserve to reserve_amount plus @count
 * @idx: index
 * @count: extra hments a caller is about to need
 *
 * Context: process context; may sleep. Stops quietly if the cache fails or
 * the caller is being killed.
 */
void hment_reserve(struct hment_index *idx, unsigned int count)
{
	unsigned int want = READ_ONCE(idx->reserve_amount) + count;
	struct hment *hm;

	while (READ_ONCE(idx->reserve_count) < want) {
		if (fatal_signal_pending(current))
			return;
		hm = hment_cache_alloc(idx, GFP_KERNEL);
		if (!hm)
			return;
		hment_reserve_push(idx, hm);
		cond_resched();
	}
}
EXPORT_SYMBOL_IF_KUNIT(hment_reserve);

/*
 * The stock of a table pass: allocated with GFP_KERNEL before the pass
 * takes its page-table lock, used by hment_prepare() without dropping the
 * mapping-list lock. Its target doubles after a pass that ran it dry, up
 * to what one table can need (two hments per entry: a promotion and the
 * new mapping), and what is left carries over to the next pass.
 */
#define HMENT_STOCK_MIN		32U
#define HMENT_STOCK_MAX		(2U * HMENT_ENTRIES)

/**
 * hment_stock_fill - top up a pass's stock before taking a page-table lock
 * @idx: index
 * @stock: the stock, zeroed before its first use
 *
 * Context: process context; may sleep. Stops early if the cache fails or
 * the caller is being killed: the pass then falls back to hment_alloc().
 */
void hment_stock_fill(struct hment_index *idx, struct hment_stock *stock)
{
	struct hment *hm;

	if (!stock->want)
		stock->want = HMENT_STOCK_MIN;
	else if (stock->ran_dry)
		stock->want = min(stock->want * 2, HMENT_STOCK_MAX);
	stock->ran_dry = false;
	while (stock->count < stock->want && !fatal_signal_pending(current)) {
		hm = hment_cache_alloc(idx, GFP_KERNEL);
		if (!hm)
			break;
		hm->hm_hashnext = stock->list;
		stock->list = hment_id(hm);
		stock->count++;
	}
}
EXPORT_SYMBOL_IF_KUNIT(hment_stock_fill);

/**
 * hment_stock_take - one hment from a stock
 * @idx: index
 * @stock: the stock, or NULL
 *
 * Context: any; takes no lock.
 * Return: a cleared hment, or NULL when the stock is empty.
 */
struct hment *hment_stock_take(struct hment_index *idx,
			       struct hment_stock *stock)
{
	struct hment *hm;

	if (!stock)
		return NULL;
	hm = hment_ptr(idx, stock->list);
	if (!hm) {
		stock->ran_dry = true;
		return NULL;
	}
	stock->list = hm->hm_hashnext;
	stock->count--;
	hment_stat_inc(idx, HMENT_STAT_ALLOC);
	memset(hm, 0, sizeof(*hm));
	return hm;
}

/**
 * hment_stock_drain - give back what a sync did not use
 * @idx: index
 * @stock: the stock; empty afterwards
 *
 * The reserve is refilled first, as by hment_free().
 */
void hment_stock_drain(struct hment_index *idx, struct hment_stock *stock)
{
	struct hment *hm;

	while ((hm = hment_ptr(idx, stock->list))) {
		stock->list = hm->hm_hashnext;
		stock->count--;
		hment_stat_inc(idx, HMENT_STAT_ALLOC);
		hment_free(idx, hm);
	}
}
EXPORT_SYMBOL_IF_KUNIT(hment_stock_drain);

/**
 * hment_adjust_reserve - give back reserve hments beyond reserve_amount
 * @idx: index
 */
void hment_adjust_reserve(struct hment_index *idx)
{
	struct hment *hm;

	while (READ_ONCE(idx->reserve_count) > READ_ONCE(idx->reserve_amount)) {
		hm = hment_reserve_pop(idx);
		if (!hm)
			return;
		hment_cache_free(idx, hm);
	}
}
EXPORT_SYMBOL_IF_KUNIT(hment_adjust_reserve);

/**
 * hment_reserve_drain - empty the reserve, for teardown
 * @idx: index
 */
void hment_reserve_drain(struct hment_index *idx)
{
	struct hment *hm;

	while ((hm = hment_reserve_pop(idx)))
		hment_cache_free(idx, hm);
}
