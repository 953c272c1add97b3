// SPDX-License-Identifier: GPL-2.0
/*
 * hment_removal: mappings leave the index from anywhere in a page's list,
 * through crowded hash buckets, and a bad removal is an error, not a crash.
 */
#include <linux/kernel.h>

#include "hment_test.h"

#define PFN	777UL

static void hment_removal_embedded(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *ht = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_page *pg;

	hment_fx_map_ok(test, ht, 3, PFN);
	KUNIT_EXPECT_EQ(test, hment_unmap(fx->idx, ht, 3, PFN), 0);

	pg = hment_page_find(fx->idx, PFN);
	KUNIT_ASSERT_NOT_NULL(test, pg);
	KUNIT_EXPECT_EQ(test, pg->head, 0U);
	KUNIT_EXPECT_EQ(test, pg->meta, 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&ht->ht_valid_cnt), 0);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, PFN), 0UL);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_MAPPINGS), 0);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_PAGES_MAPPED), 0);
}

/* Which of three listed mappings (walk order: newest first) goes. */
struct hment_removal_pos {
	const char *name;
	int victim;
};

static const struct hment_removal_pos hment_removal_positions[] = {
	{ "head", 0 },
	{ "middle", 1 },
	{ "tail", 2 },
};

static void hment_removal_pos_desc(const struct hment_removal_pos *p,
				   char *desc)
{
	strscpy(desc, p->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(hment_removal_pos, hment_removal_positions,
		  hment_removal_pos_desc);

static void hment_removal_from_list(struct kunit *test)
{
	const struct hment_removal_pos *pos = test->param_value;
	struct hment_fx *fx = test->priv;
	struct hment_htable *ht[3], *hts[4];
	unsigned int entries[4];
	int i, j, victim;

	for (i = 0; i < 3; i++) {
		ht[i] = hment_fx_ht(test, fx->user, 30 + i, 0);
		hment_fx_map_ok(test, ht[i], 40 + i, PFN);
	}
	/* walk order is newest first: position p is ht[2 - p] */
	victim = 2 - pos->victim;
	KUNIT_EXPECT_EQ(test, hment_unmap(fx->idx, ht[victim], 40 + victim, PFN),
			0);

	KUNIT_EXPECT_EQ(test, hment_fx_share(test, PFN), 2U);
	KUNIT_EXPECT_FALSE(test, hment_fx_hashed(test, ht[victim], 40 + victim,
						 PFN));
	KUNIT_ASSERT_EQ(test, hment_fx_walk(test, PFN, hts, entries, 4), 2);
	for (i = 2, j = 0; i >= 0; i--) {
		if (i == victim)
			continue;
		KUNIT_EXPECT_PTR_EQ(test, hts[j], ht[i]);
		KUNIT_EXPECT_EQ(test, entries[j], 40U + i);
		KUNIT_EXPECT_TRUE(test, hment_fx_hashed(test, ht[i], 40 + i, PFN));
		j++;
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&ht[victim]->ht_valid_cnt), 0);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_LIVE_HMENTS), 2);
}

static int hment_removal_one_bucket_init(struct kunit *test)
{
	struct hment_params p = hment_fx_params();

	p.hash_buckets = 1;
	p.hash_locks = 1;
	hment_fx_create(test, &p);
	return 0;
}

/*
 * Everything in one bucket: each removal must unlink exactly its own
 * hment from the middle of a long chain of look-alikes (same pfns, other
 * htables or entries).
 */
static void hment_removal_bucket_collisions(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *ht[4];
	unsigned long longest, used, pfn;
	int i;

	KUNIT_ASSERT_EQ(test, fx->idx->hash_size, 1U);
	for (i = 0; i < 4; i++)
		ht[i] = hment_fx_ht(test, fx->user, 50 + i, 0);
	for (pfn = PFN; pfn < PFN + 3; pfn++)
		for (i = 0; i < 4; i++)
			hment_fx_map_ok(test, ht[i], pfn - PFN, pfn);

	hment_hash_chains(fx->idx, &longest, &used);
	KUNIT_EXPECT_EQ(test, longest, 12UL);
	KUNIT_EXPECT_EQ(test, used, 1UL);

	/* odd htables from every page, middle page first */
	for (i = 1; i < 4; i += 2) {
		KUNIT_EXPECT_EQ(test, hment_unmap(fx->idx, ht[i], 1, PFN + 1), 0);
		KUNIT_EXPECT_EQ(test, hment_unmap(fx->idx, ht[i], 0, PFN), 0);
		KUNIT_EXPECT_EQ(test, hment_unmap(fx->idx, ht[i], 2, PFN + 2), 0);
	}
	hment_hash_chains(fx->idx, &longest, &used);
	KUNIT_EXPECT_EQ(test, longest, 6UL);
	for (pfn = PFN; pfn < PFN + 3; pfn++) {
		KUNIT_EXPECT_EQ(test, hment_fx_share(test, pfn), 2U);
		for (i = 0; i < 4; i++)
			KUNIT_EXPECT_EQ(test, hment_fx_hashed(test, ht[i], pfn - PFN,
							      pfn), !(i & 1));
	}
}

static void hment_removal_last_unmaps_page(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *b = hment_fx_ht(test, fx->user, 11, 0);
	struct hment_page *pg;

	hment_fx_map_ok(test, a, 1, PFN);
	hment_fx_map_ok(test, b, 2, PFN);
	KUNIT_EXPECT_EQ(test, hment_unmap(fx->idx, a, 1, PFN), 0);
	KUNIT_EXPECT_EQ(test, hment_unmap(fx->idx, b, 2, PFN), 0);

	pg = hment_page_find(fx->idx, PFN);
	KUNIT_ASSERT_NOT_NULL(test, pg);
	KUNIT_EXPECT_EQ(test, pg->head, 0U);
	KUNIT_EXPECT_EQ(test, hment_page_share(pg), 0U);
	KUNIT_EXPECT_EQ(test, hment_page_szc(pg), 0U);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, PFN), 0UL);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_PAGES_MAPPED), 0);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_LIVE_HMENTS), 0);
	/* the next mapping is embedded again */
	hment_fx_map_ok(test, b, 2, PFN);
	KUNIT_EXPECT_TRUE(test, hment_fx_embedded(test, PFN));
}

static void hment_removal_missing_is_an_error(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *b = hment_fx_ht(test, fx->user, 11, 0);

	/* never mapped, no record at all */
	KUNIT_EXPECT_EQ(test, hment_unmap(fx->idx, a, 1, PFN + 100000), -ENOENT);
	/* embedded page, other mapping */
	hment_fx_map_ok(test, a, 1, PFN);
	KUNIT_EXPECT_EQ(test, hment_unmap(fx->idx, b, 1, PFN), -ENOENT);
	/* listed page, mapping not among them */
	hment_fx_map_ok(test, b, 2, PFN);
	KUNIT_EXPECT_EQ(test, hment_unmap(fx->idx, a, 2, PFN), -ENOENT);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_REMOVE_MISSING), 3);
	/* nothing was disturbed */
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, PFN), 2U);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_MAPPINGS), 2);
	/* out of range arguments are refused before any lookup */
	KUNIT_EXPECT_EQ(test, hment_unmap(fx->idx, a, HMENT_ENTRIES, PFN),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, hment_unmap(fx->idx, a, 1, HMENT_FX_MAX_PFN),
			-EINVAL);
}

static void hment_removal_missing_on_stale_is_quiet(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);

	/* a stale htable may have lost entries to stealing: not a bug */
	hment_htable_mark_stale(fx->idx, a);
	KUNIT_EXPECT_EQ(test, hment_unmap(fx->idx, a, 1, PFN), -ENOENT);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_REMOVE_MISSING), 0);
	hment_htable_clear_stale(fx->idx, a);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_STALE_HTABLES), 0);
}

static struct kunit_case hment_removal_cases[] = {
	KUNIT_CASE(hment_removal_embedded),
	KUNIT_CASE_PARAM(hment_removal_from_list, hment_removal_pos_gen_params),
	KUNIT_CASE(hment_removal_last_unmaps_page),
	KUNIT_CASE(hment_removal_missing_is_an_error),
	KUNIT_CASE(hment_removal_missing_on_stale_is_quiet),
	{}
};

static struct kunit_suite hment_removal_suite = {
	.name = "hment_removal",
	.init = hment_fx_init,
	.exit = hment_fx_exit,
	.test_cases = hment_removal_cases,
};

static struct kunit_case hment_removal_collision_cases[] = {
	KUNIT_CASE(hment_removal_bucket_collisions),
	{}
};

static struct kunit_suite hment_removal_collision_suite = {
	.name = "hment_removal_collisions",
	.init = hment_removal_one_bucket_init,
	.exit = hment_fx_exit,
	.test_cases = hment_removal_collision_cases,
};

kunit_test_suites(&hment_removal_suite, &hment_removal_collision_suite);
