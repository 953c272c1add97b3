// SPDX-License-Identifier: GPL-2.0
/*
 * hment_stock: a table pass sets hments aside with GFP_KERNEL before it
 * takes its page-table lock, and hment_prepare() uses them without
 * dropping the mapping-list lock; a pass that runs dry falls back to the
 * old path and makes the next fill larger.
 *
 * hment_mlock: an entry is marked mlocked only while it is indexed, under
 * its pfn's lock, so a removal cannot leave its htable unstealable.
 */
#include "hment_test.h"

#define BASE	5000UL

static void hment_stock_count_unlock(struct hment_index *idx, void *data)
{
	(*(unsigned int *)data)++;
}

static void hment_stock_no_unlock(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *b = hment_fx_ht(test, fx->user, 11, 0);
	struct hment_stock stock = {};
	unsigned int unlocks = 0, i, want;

	hment_stock_fill(fx->idx, &stock);
	want = stock.count;
	KUNIT_ASSERT_GT(test, want, 2U);
	fx->idx->unlocked_hook_data = &unlocks;
	fx->idx->unlocked_hook = hment_stock_count_unlock;

	/* each page: embedded, then promoted (two hments) */
	for (i = 0; i < want / 2; i++) {
		KUNIT_EXPECT_EQ(test, hment_map_stock(fx->idx, a, i, BASE + i,
						      &stock, false), 1);
		KUNIT_EXPECT_EQ(test, hment_map_stock(fx->idx, b, i, BASE + i,
						      &stock, false), 1);
	}
	KUNIT_EXPECT_EQ(test, unlocks, 0U);
	KUNIT_EXPECT_EQ(test, stock.count, want % 2);
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, BASE), 2U);

	/* dry: the old path, and a larger fill next time */
	for (i = want / 2; i < want / 2 + 2; i++) {
		hment_fx_map_ok(test, a, i, BASE + i);
		KUNIT_EXPECT_EQ(test, hment_map_stock(fx->idx, b, i, BASE + i,
						      &stock, false), 1);
	}
	KUNIT_EXPECT_GT(test, unlocks, 0U);
	KUNIT_EXPECT_TRUE(test, stock.ran_dry);
	fx->idx->unlocked_hook = NULL;
	hment_stock_fill(fx->idx, &stock);
	KUNIT_EXPECT_EQ(test, stock.count, 2 * want);

	hment_stock_drain(fx->idx, &stock);
	KUNIT_EXPECT_EQ(test, stock.count, 0U);
	KUNIT_EXPECT_EQ(test, stock.list, 0U);
}

/* A refault or an unmapped page needs nothing: the stock is left alone. */
static void hment_stock_untouched_when_not_needed(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_stock stock = {};
	unsigned int want;

	hment_stock_fill(fx->idx, &stock);
	want = stock.count;
	KUNIT_EXPECT_EQ(test, hment_map_stock(fx->idx, a, 1, BASE, &stock,
					      false), 1);
	KUNIT_EXPECT_EQ(test, hment_map_stock(fx->idx, a, 1, BASE, &stock,
					      false), 0);
	KUNIT_EXPECT_EQ(test, stock.count, want);
	hment_stock_drain(fx->idx, &stock);
}

/*
 * The chunk a stock remembers gives the record the xarray would, within
 * the chunk and across its edges, and never one past the index's end.
 */
static void hment_stock_chunk_remembered(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	unsigned long pfn, last = fx->idx->max_pfn - 1;
	struct hment_stock stock = {};
	struct hment_page *pg;

	for (pfn = BASE - 3; pfn < BASE + 2 * HMENT_CHUNK_PFNS; pfn += 7) {
		pg = hment_page_find_stock(fx->idx, pfn, GFP_KERNEL, &stock);
		KUNIT_ASSERT_FALSE(test, IS_ERR(pg));
		KUNIT_EXPECT_PTR_EQ(test, pg, hment_page_find(fx->idx, pfn));
		KUNIT_EXPECT_EQ(test, stock.chunk_key, pfn >> HMENT_CHUNK_SHIFT);
	}
	/* back to an earlier chunk */
	pg = hment_page_find_stock(fx->idx, BASE, GFP_KERNEL, &stock);
	KUNIT_EXPECT_PTR_EQ(test, pg, hment_page_find(fx->idx, BASE));

	/* the last pfn's chunk is remembered, the pfn after it is refused */
	pg = hment_page_find_stock(fx->idx, last, GFP_KERNEL, &stock);
	KUNIT_ASSERT_FALSE(test, IS_ERR(pg));
	KUNIT_EXPECT_PTR_EQ(test, pg, hment_page_find(fx->idx, last));
	KUNIT_EXPECT_EQ(test, PTR_ERR(hment_page_find_stock(fx->idx, last + 1,
							    GFP_KERNEL,
							    &stock)),
			-ERANGE);
}

static void hment_mlock_only_while_indexed(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);

	/* nothing indexed: nothing marked */
	KUNIT_EXPECT_EQ(test, hment_set_mlocked(fx->idx, a, 3, BASE, true),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->ht_lock_cnt), 0);

	KUNIT_EXPECT_EQ(test, hment_map_stock(fx->idx, a, 3, BASE, NULL, true),
			1);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->ht_lock_cnt), 1);
	KUNIT_EXPECT_FALSE(test, hment_htable_stealable(a));

	/* a notifier removes it: the mark goes with it, and stays gone */
	KUNIT_EXPECT_EQ(test, hment_unmap_entry(fx->idx, a, 3), 0);
	KUNIT_EXPECT_EQ(test, hment_set_mlocked(fx->idx, a, 3, BASE, true),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->ht_lock_cnt), 0);
	KUNIT_EXPECT_TRUE(test, hment_htable_stealable(a));
}

static void hment_mlock_set_and_clear(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);

	hment_fx_map_ok(test, a, 4, BASE);
	KUNIT_EXPECT_EQ(test, hment_set_mlocked(fx->idx, a, 4, BASE, true), 0);
	KUNIT_EXPECT_EQ(test, hment_set_mlocked(fx->idx, a, 4, BASE, true), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->ht_lock_cnt), 1);
	/* the wrong pfn for the entry changes nothing */
	KUNIT_EXPECT_EQ(test, hment_set_mlocked(fx->idx, a, 4, BASE + 1, false),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->ht_lock_cnt), 1);
	/* a refault outside VM_LOCKED clears it */
	KUNIT_EXPECT_EQ(test, hment_map_stock(fx->idx, a, 4, BASE, NULL, false),
			0);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->ht_lock_cnt), 0);
}

/*
 * The mark shares the entry's shadow word with the pfn (its top bit): it
 * must never show in the pfn, at the largest pfn a u32 word holds and
 * past it, where shadows are unsigned longs.
 */
static void hment_mlock_beside_pfn(struct kunit *test)
{
	static const unsigned long max_pfns[] = {
		HMENT_SHADOW_MLOCKED32 - 1, HMENT_SHADOW_MLOCKED32 + 512,
	};
	struct hment_params p = hment_fx_params();
	struct hment_htable *a;
	struct hment_fx *fx;
	unsigned long pfn;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(max_pfns); i++) {
		hment_fx_exit(test);
		p.max_pfn = max_pfns[i];
		fx = hment_fx_create(test, &p);
		a = hment_fx_ht(test, fx->user, 10, 0);
		KUNIT_EXPECT_EQ(test, test_bit(HMENT_HT_WIDE, &a->ht_flags),
				i == 1);
		pfn = max_pfns[i] - 1;
		KUNIT_EXPECT_EQ(test, hment_map_stock(fx->idx, a, 5, pfn, NULL,
						      true), 1);
		KUNIT_EXPECT_EQ(test, hment_htable_shadow(a, 5), pfn);
		KUNIT_EXPECT_TRUE(test, hment_htable_mlocked(a, 5));
		KUNIT_EXPECT_TRUE(test, hment_htable_in_step(a, 5, pfn, true));
		KUNIT_EXPECT_FALSE(test, hment_htable_in_step(a, 5, pfn, false));
		KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, pfn), 1UL);
		KUNIT_EXPECT_EQ(test, atomic_read(&a->ht_lock_cnt), 1);
		/* a neighbour's mark is its own */
		hment_fx_map_ok(test, a, 6, pfn - 1);
		KUNIT_EXPECT_FALSE(test, hment_htable_mlocked(a, 6));
		KUNIT_EXPECT_EQ(test, hment_set_mlocked(fx->idx, a, 5, pfn,
							false), 0);
		KUNIT_EXPECT_EQ(test, hment_htable_shadow(a, 5), pfn);
		KUNIT_EXPECT_EQ(test, atomic_read(&a->ht_lock_cnt), 0);
		KUNIT_EXPECT_EQ(test, hment_set_mlocked(fx->idx, a, 5, pfn,
							true), 0);
		KUNIT_EXPECT_EQ(test, hment_unmap_entry(fx->idx, a, 5), 0);
		KUNIT_EXPECT_EQ(test, hment_htable_shadow(a, 5), HMENT_NO_PFN);
		KUNIT_EXPECT_FALSE(test, hment_htable_mlocked(a, 5));
		KUNIT_EXPECT_EQ(test, atomic_read(&a->ht_lock_cnt), 0);
		KUNIT_EXPECT_EQ(test, hment_unmap_entry(fx->idx, a, 6), 0);
	}
}

static struct kunit_case hment_stock_cases[] = {
	KUNIT_CASE(hment_stock_no_unlock),
	KUNIT_CASE(hment_stock_untouched_when_not_needed),
	KUNIT_CASE(hment_stock_chunk_remembered),
	KUNIT_CASE(hment_mlock_only_while_indexed),
	KUNIT_CASE(hment_mlock_set_and_clear),
	KUNIT_CASE(hment_mlock_beside_pfn),
	{}
};

static struct kunit_suite hment_stock_suite = {
	.name = "hment_stock",
	.init = hment_fx_init,
	.exit = hment_fx_exit,
	.test_cases = hment_stock_cases,
};

kunit_test_suite(hment_stock_suite);
