// SPDX-License-Identifier: GPL-2.0
/*
 * hment_reserve: the pool behind the cache; filled by hment_reserve() and
 * by donation, trimmed by hment_adjust_reserve(), drawn on when the cache
 * fails. Also the fault-injection knobs that force those paths.
 */
#include "hment_test.h"

static void hment_reserve_fill_and_adjust(struct kunit *test)
{
	struct hment_index *idx = hment_fx_idx(test);

	idx->reserve_amount = 10;
	hment_reserve(idx, 5);
	KUNIT_EXPECT_EQ(test, idx->reserve_count, 15U);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_PUT_RESERVE), 15);

	hment_adjust_reserve(idx);
	KUNIT_EXPECT_EQ(test, idx->reserve_count, 10U);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_CACHE_FREE), 5);
}

static void hment_reserve_donation(struct kunit *test)
{
	struct hment_index *idx = hment_fx_idx(test);
	struct hment *hm;

	idx->reserve_amount = 4;
	hm = hment_alloc(idx);
	KUNIT_ASSERT_NOT_NULL(test, hm);
	/* the first four successes went to the short reserve */
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_CACHE_ALLOC), 5);
	KUNIT_EXPECT_EQ(test, idx->reserve_count, 4U);

	/* the reserve is full, so a free goes back to the cache */
	hment_free(idx, hm);
	KUNIT_EXPECT_EQ(test, idx->reserve_count, 4U);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_CACHE_FREE), 1);
}

static void hment_reserve_free_refills(struct kunit *test)
{
	struct hment_index *idx = hment_fx_idx(test);
	struct hment *hm[3];
	int i;

	for (i = 0; i < 3; i++) {
		hm[i] = hment_alloc(idx);
		KUNIT_ASSERT_NOT_NULL(test, hm[i]);
	}
	KUNIT_EXPECT_EQ(test, idx->reserve_count, 0U);
	idx->reserve_amount = 2;
	for (i = 0; i < 3; i++)
		hment_free(idx, hm[i]);
	KUNIT_EXPECT_EQ(test, idx->reserve_count, 2U);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_PUT_RESERVE), 2);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_CACHE_FREE), 1);
}

static void hment_reserve_used_when_cache_fails(struct kunit *test)
{
	struct hment_index *idx = hment_fx_idx(test);
	struct hment *hm;

	idx->reserve_amount = 3;
	hment_reserve(idx, 0);
	atomic_set(&idx->fault.every, 1);

	hm = hment_alloc(idx);
	KUNIT_ASSERT_NOT_NULL(test, hm);
	KUNIT_EXPECT_EQ(test, idx->reserve_count, 2U);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_GET_RESERVE), 1);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_STEALS), 0);

	hment_free(idx, hm);
	KUNIT_EXPECT_EQ(test, idx->reserve_count, 3U);
	atomic_set(&idx->fault.every, 0);
}

static void hment_reserve_fault_nth(struct kunit *test)
{
	struct hment_index *idx = hment_fx_idx(test);
	struct hment *hm[3];
	int i;

	atomic_set(&idx->fault.nth, 2);
	for (i = 0; i < 3; i++)
		hm[i] = hment_alloc(idx);

	KUNIT_EXPECT_NOT_NULL(test, hm[0]);
	KUNIT_EXPECT_NULL(test, hm[1]);
	KUNIT_EXPECT_NOT_NULL(test, hm[2]);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_FAULT_INJECTED), 1);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_ALLOC_FAIL), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&idx->fault.nth), 0);
	for (i = 0; i < 3; i++)
		if (hm[i])
			hment_free(idx, hm[i]);
}

static void hment_reserve_fault_every(struct kunit *test)
{
	struct hment_index *idx = hment_fx_idx(test);
	struct hment *hm[6];
	int i, failed = 0;

	/* count from here: making the fixture consulted the knobs too */
	atomic_long_set(&idx->fault.calls, 0);
	atomic_set(&idx->fault.every, 3);
	for (i = 0; i < 6; i++) {
		hm[i] = hment_alloc(idx);
		failed += !hm[i];
	}
	atomic_set(&idx->fault.every, 0);
	KUNIT_EXPECT_EQ(test, failed, 2);
	KUNIT_EXPECT_NULL(test, hm[2]);
	KUNIT_EXPECT_NULL(test, hm[5]);
	for (i = 0; i < 6; i++)
		if (hm[i])
			hment_free(idx, hm[i]);
}

static void hment_reserve_default_amount_fills_on_map(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *b = hment_fx_ht(test, fx->user, 11, 0);

	fx->idx->reserve_amount = 200;
	hment_fx_map_ok(test, a, 1, 5);
	KUNIT_EXPECT_EQ(test, fx->idx->reserve_count, 0U);
	/* the promotion's allocation tops the reserve up to the amount */
	hment_fx_map_ok(test, b, 1, 5);
	KUNIT_EXPECT_EQ(test, fx->idx->reserve_count, 200U);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_CACHE_ALLOC), 202);
}

static struct kunit_case hment_reserve_cases[] = {
	KUNIT_CASE(hment_reserve_fill_and_adjust),
	KUNIT_CASE(hment_reserve_donation),
	KUNIT_CASE(hment_reserve_free_refills),
	KUNIT_CASE(hment_reserve_used_when_cache_fails),
	KUNIT_CASE(hment_reserve_fault_nth),
	KUNIT_CASE(hment_reserve_fault_every),
	KUNIT_CASE(hment_reserve_default_amount_fills_on_map),
	{}
};

static struct kunit_suite hment_reserve_suite = {
	.name = "hment_reserve",
	.init = hment_fx_init,
	.exit = hment_fx_exit,
	.test_cases = hment_reserve_cases,
};

kunit_test_suite(hment_reserve_suite);
