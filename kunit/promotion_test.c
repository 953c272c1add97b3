// SPDX-License-Identifier: GPL-2.0
/*
 * hment_promotion: a page's first mapping is embedded, its second promotes
 * it to a list, and hment_prepare() copes with the page changing while it
 * allocates.
 */
#include "hment_test.h"

#define PFN	4242UL

static void hment_promotion_first_embedded(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *ht = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_page *pg;

	hment_fx_map_ok(test, ht, 5, PFN);

	pg = hment_page_find(fx->idx, PFN);
	KUNIT_ASSERT_NOT_NULL(test, pg);
	KUNIT_EXPECT_TRUE(test, hment_fx_embedded(test, PFN));
	KUNIT_EXPECT_PTR_EQ(test, hment_page_embed_ht(fx->idx, pg), ht);
	KUNIT_EXPECT_EQ(test, hment_page_embed_entry(pg), 5U);
	KUNIT_EXPECT_EQ(test, hment_page_share(pg), 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&ht->ht_valid_cnt), 1);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_ALLOC), 0);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_LIVE_HMENTS), 0);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_MAPPINGS), 1);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_PAGES_MAPPED), 1);
	KUNIT_EXPECT_FALSE(test, hment_fx_hashed(test, ht, 5, PFN));
}

static void hment_promotion_refault_embedded(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *ht = hment_fx_ht(test, fx->user, 10, 0);

	hment_fx_map_ok(test, ht, 5, PFN);
	KUNIT_EXPECT_EQ(test, hment_map(fx->idx, ht, 5, PFN), 0);

	KUNIT_EXPECT_TRUE(test, hment_fx_embedded(test, PFN));
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_ALLOC), 0);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_MAPPINGS), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&ht->ht_valid_cnt), 1);
}

static void hment_promotion_second_promotes(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *b = hment_fx_ht(test, fx->user, 11, 0);
	struct hment_htable *hts[4];
	unsigned int entries[4];

	hment_fx_map_ok(test, a, 5, PFN);
	hment_fx_map_ok(test, b, 7, PFN);

	KUNIT_EXPECT_FALSE(test, hment_fx_embedded(test, PFN));
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, PFN), 2U);
	KUNIT_ASSERT_EQ(test, hment_fx_walk(test, PFN, hts, entries, 4), 2);
	/* newest first: the new mapping, then the promoted one */
	KUNIT_EXPECT_PTR_EQ(test, hts[0], b);
	KUNIT_EXPECT_EQ(test, entries[0], 7U);
	KUNIT_EXPECT_PTR_EQ(test, hts[1], a);
	KUNIT_EXPECT_EQ(test, entries[1], 5U);
	KUNIT_EXPECT_TRUE(test, hment_fx_hashed(test, a, 5, PFN));
	KUNIT_EXPECT_TRUE(test, hment_fx_hashed(test, b, 7, PFN));
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_ALLOC), 2);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_LIVE_HMENTS), 2);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_MAPPINGS), 2);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_PAGES_MAPPED), 1);
}

static void hment_promotion_third_and_later(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *ht[6], *hts[8];
	unsigned int entries[8];
	long allocs;
	int i;

	for (i = 0; i < 6; i++) {
		ht[i] = hment_fx_ht(test, fx->user, 20 + i, 0);
		hment_fx_map_ok(test, ht[i], i, PFN);
	}
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, PFN), 6U);
	/* one hment per mapping, plus none for the first (embedded) one */
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_ALLOC), 6);
	KUNIT_ASSERT_EQ(test, hment_fx_walk(test, PFN, hts, entries, 8), 6);
	for (i = 0; i < 6; i++) {
		KUNIT_EXPECT_PTR_EQ(test, hts[i], ht[5 - i]);
		KUNIT_EXPECT_EQ(test, entries[i], 5U - i);
		KUNIT_EXPECT_TRUE(test, hment_fx_hashed(test, ht[i], i, PFN));
	}

	/* a refault of a listed mapping allocates nothing and adds nothing */
	allocs = hment_fx_stat(test, HMENT_STAT_ALLOC);
	KUNIT_EXPECT_EQ(test, hment_map(fx->idx, ht[2], 2, PFN), 0);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_ALLOC), allocs);
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, PFN), 6U);
}

/*
 * The re-check paths of hment_prepare(): another mapper changes the page
 * while the list lock is dropped for allocation. Each case drives prepare
 * and assign by hand, as hment_map() does, with a hook standing in for
 * the other mapper.
 */
static struct hment *hment_promotion_prepare(struct kunit *test,
					     struct hment_htable *ht,
					     unsigned int entry, bool *added)
{
	struct hment_index *idx = hment_fx_idx(test);
	struct hment *hm;

	KUNIT_ASSERT_FALSE(test, IS_ERR(hment_page_find_or_alloc(idx, PFN, GFP_KERNEL)));
	KUNIT_ASSERT_EQ(test, hment_htable_shadow_prepare(idx, ht, entry,
							  GFP_KERNEL), 0);
	hment_page_lock(idx, PFN);
	hm = hment_prepare(idx, ht, entry, PFN);
	if (!IS_ERR(hm))
		*added = hment_assign(idx, ht, entry, PFN, hm);
	hment_page_unlock(idx, PFN);
	return hm;
}

static void hment_promotion_recheck_page_emptied(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *b = hment_fx_ht(test, fx->user, 11, 0);
	struct hment_fx_hook hook = {
		.op = hment_unmap, .ht = a, .entry = 1, .pfn = PFN,
	};
	bool added = false;

	hment_fx_map_ok(test, a, 1, PFN);
	hment_fx_set_hook(test, &hook);
	/* prepare allocates to promote a; meanwhile a goes away */
	KUNIT_EXPECT_NULL(test, hment_promotion_prepare(test, b, 2, &added));

	KUNIT_EXPECT_EQ(test, hook.fired, 1);
	KUNIT_EXPECT_EQ(test, hook.result, 0);
	KUNIT_EXPECT_TRUE(test, added);
	/* the spare hment went back, and b is embedded alone */
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_ALLOC), 1);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_FREE), 1);
	KUNIT_EXPECT_TRUE(test, hment_fx_embedded(test, PFN));
	KUNIT_EXPECT_PTR_EQ(test, hment_fx_embed_ht(test, PFN), b);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_LIVE_HMENTS), 0);
}

static void hment_promotion_recheck_same_mapping_added(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *b = hment_fx_ht(test, fx->user, 11, 0);
	struct hment_fx_hook hook = {
		.op = hment_map, .ht = b, .entry = 2, .pfn = PFN,
	};
	bool added = true;

	hment_fx_map_ok(test, a, 1, PFN);
	hment_fx_set_hook(test, &hook);
	/* another mapper records the very mapping we are preparing */
	KUNIT_EXPECT_NULL(test, hment_promotion_prepare(test, b, 2, &added));

	KUNIT_EXPECT_EQ(test, hook.result, 1);
	KUNIT_EXPECT_FALSE(test, added);
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, PFN), 2U);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_LIVE_HMENTS), 2);
	/* ours plus the other mapper's two; ours went back unused */
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_ALLOC), 3);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_FREE), 1);
}

static void hment_promotion_recheck_other_mapping_added(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *b = hment_fx_ht(test, fx->user, 11, 0);
	struct hment_htable *c = hment_fx_ht(test, fx->user, 12, 0);
	struct hment_fx_hook hook = {
		.op = hment_map, .ht = c, .entry = 3, .pfn = PFN,
	};
	struct hment_htable *hts[4];
	unsigned int entries[4];
	bool added = false;

	hment_fx_map_ok(test, a, 1, PFN);
	hment_fx_set_hook(test, &hook);
	/* the other mapper promotes a itself; our hment then serves b */
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test,
				     hment_promotion_prepare(test, b, 2, &added));

	KUNIT_EXPECT_TRUE(test, added);
	KUNIT_ASSERT_EQ(test, hment_fx_walk(test, PFN, hts, entries, 4), 3);
	KUNIT_EXPECT_PTR_EQ(test, hts[0], b);
	KUNIT_EXPECT_PTR_EQ(test, hts[1], c);
	KUNIT_EXPECT_PTR_EQ(test, hts[2], a);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_FREE), 0);
}

static void hment_promotion_recheck_list_emptied(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *b = hment_fx_ht(test, fx->user, 11, 0);
	struct hment_htable *c = hment_fx_ht(test, fx->user, 12, 0);
	struct hment_fx_hook hook = {
		.op = hment_unmap, .ht = a, .entry = 1, .pfn = PFN,
	};
	bool added = false;

	hment_fx_map_ok(test, a, 1, PFN);
	hment_fx_map_ok(test, b, 2, PFN);
	KUNIT_ASSERT_EQ(test, hment_unmap(fx->idx, b, 2, PFN), 0);
	KUNIT_ASSERT_EQ(test, hment_fx_share(test, PFN), 1U);
	hment_fx_set_hook(test, &hook);
	/* listed with one hment; it goes away while we allocate for c */
	KUNIT_EXPECT_NULL(test, hment_promotion_prepare(test, c, 3, &added));

	KUNIT_EXPECT_TRUE(test, added);
	KUNIT_EXPECT_TRUE(test, hment_fx_embedded(test, PFN));
	KUNIT_EXPECT_PTR_EQ(test, hment_fx_embed_ht(test, PFN), c);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_LIVE_HMENTS), 0);
}

static struct kunit_case hment_promotion_cases[] = {
	KUNIT_CASE(hment_promotion_first_embedded),
	KUNIT_CASE(hment_promotion_refault_embedded),
	KUNIT_CASE(hment_promotion_second_promotes),
	KUNIT_CASE(hment_promotion_third_and_later),
	KUNIT_CASE(hment_promotion_recheck_page_emptied),
	KUNIT_CASE(hment_promotion_recheck_same_mapping_added),
	KUNIT_CASE(hment_promotion_recheck_other_mapping_added),
	KUNIT_CASE(hment_promotion_recheck_list_emptied),
	{}
};

static struct kunit_suite hment_promotion_suite = {
	.name = "hment_promotion",
	.init = hment_fx_init,
	.exit = hment_fx_exit,
	.test_cases = hment_promotion_cases,
};

kunit_test_suite(hment_promotion_suite);
