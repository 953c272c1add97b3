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
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "hment.h"

/**
 * hment_should_fail - consult the fault-injection knobs for one allocation
 * @fault: the knobs
 * @site: where the allocation is
 *
 * Return: true when this allocation must fail.
 */
bool hment_should_fail(struct hment_fault *fault, enum hment_fault_site site)
{
	int every, sites = atomic_read(&fault->sites);
	long calls;

	if (sites && !(sites & BIT(site)))
		return false;
	calls = atomic_long_inc_return(&fault->calls);
	every = atomic_read(&fault->every);

	/* Decrements only while positive: 0 means off, 1 means "this one". */
	if (atomic_dec_if_positive(&fault->nth) == 0)
		return true;
	return every > 0 && calls % every == 0;
}

static struct hment *hment_cache_alloc(struct hment_index *idx, gfp_t gfp)
{
	struct hment *hm;

	if (hment_should_fail(&idx->fault, HMENT_FAULT_HMENT)) {
		hment_stat_inc(idx, HMENT_STAT_FAULT_INJECTED);
		return NULL;
	}
	hm = kmem_cache_alloc(hment_cache, gfp | __GFP_NOWARN);
	if (hm)
		hment_stat_inc(idx, HMENT_STAT_CACHE_ALLOC);
	return hm;
}

static void hment_cache_free(struct hment_index *idx, struct hment *hm)
{
	hment_stat_inc(idx, HMENT_STAT_CACHE_FREE);
	kmem_cache_free(hment_cache, hm);
}

static void hment_put_reserve(struct hment_index *idx, struct hment *hm)
{
	hment_stat_inc(idx, HMENT_STAT_PUT_RESERVE);
	spin_lock(&idx->reserve_lock);
	hm->hm_hashnext = idx->reserve_pool;
	idx->reserve_pool = hm;
	WRITE_ONCE(idx->reserve_count, idx->reserve_count + 1);
	spin_unlock(&idx->reserve_lock);
}

static struct hment *hment_get_reserve(struct hment_index *idx)
{
	struct hment *hm;

	hment_stat_inc(idx, HMENT_STAT_GET_RESERVE);
	spin_lock(&idx->reserve_lock);
	hm = idx->reserve_pool;
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
 * Visit every pfn once, starting where the last steal stopped, so that no
 * single page keeps losing its mappings. Unallocated chunks are skipped
 * whole: they hold no mappings.
 */
static struct hment *hment_steal(struct hment_index *idx)
{
	unsigned long start = atomic_long_read(&idx->steal_rotor);
	unsigned long n, pfn;
	struct hment_page *pg;
	struct hment *hm;

	hment_stat_inc(idx, HMENT_STAT_STEALS);
	for (n = 0; n < idx->max_pfn; n++) {
		pfn = (start + n) % idx->max_pfn;
		pg = hment_page(idx, pfn);
		if (!pg) {
			/* to the last pfn of this chunk; the loop adds one */
			n += HMENT_CHUNK_PFNS - 1 - (pfn & (HMENT_CHUNK_PFNS - 1));
			continue;
		}
		hment_stat_inc(idx, HMENT_STAT_STEAL_EXAM);
		/* Only listed pages have an hment to give; peek unlocked. */
		if (!READ_ONCE(pg->share))
			continue;
		hm = hment_steal_from_page(idx, pfn);
		if (hm) {
			atomic_long_set(&idx->steal_rotor,
					(pfn + 1) % idx->max_pfn);
			hment_stat_inc(idx, HMENT_STAT_STOLEN);
			return hm;
		}
	}
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
		hment_put_reserve(idx, hm);
	}
	if (!hm)
		hm = hment_get_reserve(idx);
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
		hment_put_reserve(idx, hm);
	else
		hment_cache_free(idx, hm);
}
EXPORT_SYMBOL_IF_KUNIT(hment_free);

/**
 * hment_reserve - fill the reserve to reserve_amount plus @count
 * @idx: index
 * @count: extra hments a caller is about to need
 *
 * Context: process context; may sleep. Stops quietly if the cache fails.
 */
void hment_reserve(struct hment_index *idx, unsigned int count)
{
	unsigned int want = READ_ONCE(idx->reserve_amount) + count;
	struct hment *hm;

	while (READ_ONCE(idx->reserve_count) < want) {
		hm = hment_cache_alloc(idx, GFP_KERNEL);
		if (!hm)
			return;
		hment_put_reserve(idx, hm);
	}
}
EXPORT_SYMBOL_IF_KUNIT(hment_reserve);

/**
 * hment_adjust_reserve - give back reserve hments beyond reserve_amount
 * @idx: index
 */
void hment_adjust_reserve(struct hment_index *idx)
{
	struct hment *hm;

	while (READ_ONCE(idx->reserve_count) > READ_ONCE(idx->reserve_amount)) {
		hm = hment_get_reserve(idx);
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

	while ((hm = hment_get_reserve(idx)))
		hment_cache_free(idx, hm);
}
