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
 * Visit every pfn in turn, starting where the last steal stopped, so that
 * no single page keeps losing its mappings. Unallocated chunks are skipped
 * whole: they hold no mappings. The caller may hold a page-table lock, so
 * one call examines no more than HMENT_STEAL_SCAN records and skips no
 * more than HMENT_STEAL_SKIPS empty chunks (a pointer read each); when it
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
		pg = hment_page(idx, pfn);
		if (!pg) {
			next = min(round_down(pfn, HMENT_CHUNK_PFNS) +
				   HMENT_CHUNK_PFNS, idx->max_pfn);
			covered += next - pfn;
			pfn = next == idx->max_pfn ? 0 : next;
			skipped++;
			continue;
		}
		hment_stat_inc(idx, HMENT_STAT_STEAL_EXAM);
		examined++;
		covered++;
		/* Only listed pages have an hment to give; peek unlocked. */
		hm = READ_ONCE(pg->share) ? hment_steal_from_page(idx, pfn) : NULL;
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
		hment_put_reserve(idx, hm);
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
		stock->list = hm;
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
	hm = stock->list;
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

	while ((hm = stock->list)) {
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
