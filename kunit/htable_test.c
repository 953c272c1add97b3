// SPDX-License-Identifier: GPL-2.0
/*
 * hment_htable: an htable remembers which pfn the index holds for each of
 * its entries, so that mappings can be dropped by address range alone (as
 * the notifier does) and a table that went away can be emptied.
 */
#include <linux/sizes.h>

#include "hment_test.h"

#define PFN	6000UL

static void hment_htable_shadow_follows_index(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *b = hment_fx_ht(test, fx->user, 11, 0);

	KUNIT_EXPECT_EQ(test, hment_htable_shadow(a, 5), HMENT_NO_PFN);
	hment_fx_map_ok(test, a, 5, PFN);
	KUNIT_EXPECT_EQ(test, hment_htable_shadow(a, 5), PFN);
	/* promotion moves the mapping into a list; the shadow stays */
	hment_fx_map_ok(test, b, 6, PFN);
	KUNIT_EXPECT_EQ(test, hment_htable_shadow(a, 5), PFN);
	KUNIT_EXPECT_EQ(test, hment_htable_shadow(b, 6), PFN);
	KUNIT_EXPECT_EQ(test, hment_unmap(fx->idx, a, 5, PFN), 0);
	KUNIT_EXPECT_EQ(test, hment_htable_shadow(a, 5), HMENT_NO_PFN);
}

static void hment_htable_entry_maps_one_pfn(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);

	hment_fx_map_ok(test, a, 5, PFN);
	KUNIT_EXPECT_EQ(test, hment_map(fx->idx, a, 5, PFN + 1), -EBUSY);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, PFN + 1), 0UL);
	KUNIT_EXPECT_EQ(test, hment_unmap_entry(fx->idx, a, 5), 0);
	hment_fx_map_ok(test, a, 5, PFN + 1);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, PFN), 0UL);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, PFN + 1), 1UL);
}

static void hment_htable_unmap_entry_by_shadow(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *b = hment_fx_ht(test, fx->user, 11, 0);
	struct hment_htable *c = hment_fx_ht(test, fx->user, 12, 0);

	KUNIT_EXPECT_EQ(test, hment_unmap_entry(fx->idx, a, 1), -ENOENT);
	hment_fx_map_ok(test, a, 1, PFN);
	KUNIT_EXPECT_EQ(test, hment_unmap_entry(fx->idx, a, 1), 0);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, PFN), 0UL);

	/* a listed one, from the middle */
	hment_fx_map_ok(test, a, 1, PFN);
	hment_fx_map_ok(test, b, 2, PFN);
	hment_fx_map_ok(test, c, 3, PFN);
	KUNIT_EXPECT_EQ(test, hment_unmap_entry(fx->idx, b, 2), 0);
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, PFN), 2U);
	KUNIT_EXPECT_FALSE(test, hment_fx_hashed(test, b, 2, PFN));
	/* nothing is reported missing: the shadow said what was there */
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_REMOVE_MISSING), 0);
}

static void hment_htable_forget_range(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *pte = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *pmd = hment_fx_ht(test, fx->user, 20, 1);
	unsigned long pte_va = pte->ht_va, pmd_va = pmd->ht_va;
	unsigned int e;

	for (e = 0; e < 10; e++)
		hment_fx_map_ok(test, pte, e, PFN + e);
	/* 2M leaves at entries 1 and 2 of the PMD table */
	hment_fx_map_ok(test, pmd, 1, 4 * HMENT_LEVEL_PAGES(1));
	hment_fx_map_ok(test, pmd, 2, 5 * HMENT_LEVEL_PAGES(1));

	/* pages 3, 4 and 5 of the PTE table */
	KUNIT_EXPECT_EQ(test, hment_hat_forget_range(fx->user,
						     pte_va + 3 * PAGE_SIZE,
						     pte_va + 6 * PAGE_SIZE),
			3UL);
	for (e = 0; e < 10; e++)
		KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, PFN + e),
				e >= 3 && e < 6 ? 0UL : 1UL);

	/* one 4K page inside the first 2M leaf takes the whole leaf */
	KUNIT_EXPECT_EQ(test, hment_hat_forget_range(fx->user,
						     pmd_va + SZ_2M + SZ_64K,
						     pmd_va + SZ_2M + SZ_64K +
						     PAGE_SIZE),
			1UL);
	KUNIT_EXPECT_EQ(test, hment_htable_shadow(pmd, 1), HMENT_NO_PFN);
	KUNIT_EXPECT_EQ(test, hment_htable_shadow(pmd, 2),
			5 * HMENT_LEVEL_PAGES(1));

	/* everything: what release() does when the mm exits */
	KUNIT_EXPECT_EQ(test, hment_hat_forget_range(fx->user, 0, ULONG_MAX),
			8UL);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_MAPPINGS), 0);
}

static void hment_htable_replaced_table(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *again;

	/* same address range, another page-table page: the old one went */
	again = hment_htable_get(fx->user, 0, a->ht_va, a->ht_pfn + 1);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(again), (long)-EEXIST);
	KUNIT_EXPECT_PTR_EQ(test, hment_htable_get(fx->user, 0, a->ht_va + 4096,
						   a->ht_pfn), a);
	KUNIT_EXPECT_PTR_EQ(test, hment_htable_lookup(fx->user, 0, a->ht_va),
			    a);
	KUNIT_EXPECT_NULL(test, hment_htable_lookup(fx->user, 1, a->ht_va));
}

static void hment_htable_put_only_when_empty(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);
	unsigned long va = a->ht_va;

	hment_fx_map_ok(test, a, 1, PFN);
	hment_fx_map_ok(test, a, 2, PFN + 1);
	KUNIT_EXPECT_EQ(test, hment_htable_put(a), -EBUSY);
	KUNIT_EXPECT_EQ(test, hment_htable_clear(fx->idx, a), 2U);
	KUNIT_EXPECT_EQ(test, hment_htable_put(a), 0);
	KUNIT_EXPECT_NULL(test, hment_htable_lookup(fx->user, 0, va));
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_HTABLES), 0);
}

static void hment_htable_hat_destroy_empties(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_hat *hat = hment_hat_create(fx->idx, 300, false);
	struct hment_htable *a, *b;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, hat);
	a = hment_fx_ht(test, hat, 10, 0);
	b = hment_fx_ht(test, fx->user, 11, 0);
	hment_fx_map_ok(test, a, 1, PFN);
	hment_fx_map_ok(test, b, 2, PFN);
	hment_fx_map_ok(test, a, 3, PFN + 1);

	KUNIT_EXPECT_EQ(test, hment_hat_destroy(hat), 0);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, PFN), 1UL);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, PFN + 1), 0UL);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_HATS), 2);
}

static struct kunit_case hment_htable_cases[] = {
	KUNIT_CASE(hment_htable_shadow_follows_index),
	KUNIT_CASE(hment_htable_entry_maps_one_pfn),
	KUNIT_CASE(hment_htable_unmap_entry_by_shadow),
	KUNIT_CASE(hment_htable_forget_range),
	KUNIT_CASE(hment_htable_replaced_table),
	KUNIT_CASE(hment_htable_put_only_when_empty),
	KUNIT_CASE(hment_htable_hat_destroy_empties),
	{}
};

static struct kunit_suite hment_htable_suite = {
	.name = "hment_htable",
	.init = hment_fx_init,
	.exit = hment_fx_exit,
	.test_cases = hment_htable_cases,
};

kunit_test_suite(hment_htable_suite);
