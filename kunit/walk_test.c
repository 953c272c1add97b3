// SPDX-License-Identifier: GPL-2.0
/*
 * hment_walk: stepping through a page's mappings, embedded (a sentinel
 * cookie) or listed (newest first), visits each exactly once.
 */
#include "hment_test.h"

#define PFN	31337UL

static void hment_walk_unmapped(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *ht = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *hts[1];
	unsigned int entries[1];

	/* no record at all, then a record that was emptied */
	KUNIT_EXPECT_EQ(test, hment_fx_walk(test, PFN, hts, entries, 1), 0);
	hment_fx_map_ok(test, ht, 1, PFN);
	KUNIT_ASSERT_EQ(test, hment_unmap(fx->idx, ht, 1, PFN), 0);
	KUNIT_EXPECT_EQ(test, hment_fx_walk(test, PFN, hts, entries, 1), 0);
}

static void hment_walk_embedded_sentinel(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *ht = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *got = NULL;
	unsigned int entry = 0;
	struct hment *hm;

	hment_fx_map_ok(test, ht, 9, PFN);
	hment_page_lock(fx->idx, PFN);
	hm = hment_walk(fx->idx, PFN, &got, &entry, NULL);
	KUNIT_EXPECT_PTR_EQ(test, hm, HMENT_EMBEDDED);
	KUNIT_EXPECT_PTR_EQ(test, got, ht);
	KUNIT_EXPECT_EQ(test, entry, 9U);
	KUNIT_EXPECT_NULL(test, hment_walk(fx->idx, PFN, &got, &entry, hm));
	hment_page_unlock(fx->idx, PFN);
}

static void hment_walk_list_each_once(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *ht[5], *hts[8];
	unsigned int entries[8];
	int i, j, n;

	for (i = 0; i < 5; i++) {
		ht[i] = hment_fx_ht(test, fx->user, 10 + i, 0);
		hment_fx_map_ok(test, ht[i], 3, PFN);
	}
	KUNIT_ASSERT_EQ(test, hment_unmap(fx->idx, ht[2], 3, PFN), 0);

	n = hment_fx_walk(test, PFN, hts, entries, 8);
	KUNIT_ASSERT_EQ(test, n, 4);
	KUNIT_EXPECT_EQ(test, (unsigned int)n, hment_fx_share(test, PFN));
	/* newest first, the removed one gone, none twice */
	KUNIT_EXPECT_PTR_EQ(test, hts[0], ht[4]);
	KUNIT_EXPECT_PTR_EQ(test, hts[1], ht[3]);
	KUNIT_EXPECT_PTR_EQ(test, hts[2], ht[1]);
	KUNIT_EXPECT_PTR_EQ(test, hts[3], ht[0]);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			KUNIT_EXPECT_PTR_NE(test, hts[i], hts[j]);
}

static void hment_walk_promoted_is_real_hment(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *b = hment_fx_ht(test, fx->user, 11, 0);
	struct hment_htable *got;
	unsigned int entry;
	struct hment *hm = NULL;
	int n = 0;

	hment_fx_map_ok(test, a, 1, PFN);
	hment_fx_map_ok(test, b, 2, PFN);
	hment_page_lock(fx->idx, PFN);
	while ((hm = hment_walk(fx->idx, PFN, &got, &entry, hm))) {
		KUNIT_EXPECT_PTR_NE(test, hm, HMENT_EMBEDDED);
		KUNIT_EXPECT_EQ(test, hment_htable_shadow(got, entry), PFN);
		KUNIT_EXPECT_PTR_EQ(test, hment_ht(fx->idx, hm), got);
		KUNIT_EXPECT_EQ(test, hment_entry(hm), entry);
		n++;
	}
	hment_page_unlock(fx->idx, PFN);
	KUNIT_EXPECT_EQ(test, n, 2);
}

static struct kunit_case hment_walk_cases[] = {
	KUNIT_CASE(hment_walk_unmapped),
	KUNIT_CASE(hment_walk_embedded_sentinel),
	KUNIT_CASE(hment_walk_list_each_once),
	KUNIT_CASE(hment_walk_promoted_is_real_hment),
	{}
};

static struct kunit_suite hment_walk_suite = {
	.name = "hment_walk",
	.init = hment_fx_init,
	.exit = hment_fx_exit,
	.test_cases = hment_walk_cases,
};

kunit_test_suite(hment_walk_suite);
