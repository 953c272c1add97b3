// SPDX-License-Identifier: GPL-2.0
/*
 * hment_mapcnt: a page's mapping count includes the 2M and 1G leaves that
 * cover it, recorded once against their group leader, on every subpage and
 * without counting the leader twice.
 */
#include "hment_test.h"

#define PMD_PAGES	HMENT_LEVEL_PAGES(1)
#define PUD_PAGES	HMENT_LEVEL_PAGES(2)
#define LEADER_2M	(3 * PMD_PAGES)
#define LEADER_1G	PUD_PAGES

/* Subpages of [first, first + n) whose count is not @want. */
static unsigned long hment_mapcnt_misses(struct kunit *test,
					 unsigned long first, unsigned long n,
					 unsigned long want)
{
	unsigned long pfn, misses = 0;

	for (pfn = first; pfn < first + n; pfn++) {
		misses += hment_mapcnt(hment_fx_idx(test), pfn) != want;
		if (!(pfn & (PMD_PAGES - 1)))
			cond_resched();
	}
	return misses;
}

static void hment_mapcnt_4k(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	int i;

	for (i = 0; i < 3; i++)
		hment_fx_map_ok(test, hment_fx_ht(test, fx->user, 10 + i, 0), 7,
				5000);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, 5000), 3UL);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, 5001), 0UL);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, 123456), 0UL);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, HMENT_FX_MAX_PFN + 5), 0UL);
}

static void hment_mapcnt_2m_every_subpage(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *pmd = hment_fx_ht(test, fx->user, 20, 1);
	struct hment_htable *pte = hment_fx_ht(test, fx->user, 21, 0);

	hment_fx_map_ok(test, pmd, 3, LEADER_2M);
	KUNIT_EXPECT_EQ(test, hment_mapcnt_misses(test, LEADER_2M, PMD_PAGES, 1),
			0UL);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, LEADER_2M - 1), 0UL);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, LEADER_2M + PMD_PAGES), 0UL);

	/* another process maps one subpage with a PTE */
	hment_fx_map_ok(test, pte, 7, LEADER_2M + 7);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, LEADER_2M + 7), 2UL);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, LEADER_2M + 8), 1UL);

	/* and the leader itself: counted once per mapping, not twice */
	hment_fx_map_ok(test, pte, 0, LEADER_2M);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, LEADER_2M), 2UL);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, LEADER_2M + 1), 1UL);
	KUNIT_EXPECT_EQ(test, hment_page_szc(hment_page_find(fx->idx, LEADER_2M)), 1U);
}

static void hment_mapcnt_1g_every_subpage(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *pud = hment_fx_ht(test, fx->user, 30, 2);
	struct hment_htable *pmd = hment_fx_ht(test, fx->user, 31, 1);
	struct hment_htable *pmd2 = hment_fx_ht(test, fx->user, 32, 1);

	hment_fx_map_ok(test, pud, 1, LEADER_1G);
	KUNIT_EXPECT_EQ(test, hment_mapcnt_misses(test, LEADER_1G, PUD_PAGES, 1),
			0UL);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, LEADER_1G - 1), 0UL);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, LEADER_1G + PUD_PAGES), 0UL);

	/* a 2M leaf inside the 1G page, from another process */
	hment_fx_map_ok(test, pmd, 1, LEADER_1G + PMD_PAGES);
	KUNIT_EXPECT_EQ(test, hment_mapcnt_misses(test, LEADER_1G + PMD_PAGES,
						  PMD_PAGES, 2), 0UL);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, LEADER_1G + 2 * PMD_PAGES),
			1UL);

	/* a 2M leaf at the 1G leader: both levels lead from the same record */
	hment_fx_map_ok(test, pmd2, 0, LEADER_1G);
	KUNIT_EXPECT_EQ(test, hment_mapcnt_misses(test, LEADER_1G, PMD_PAGES, 2),
			0UL);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, LEADER_1G + 3 * PMD_PAGES),
			1UL);
}

static void hment_mapcnt_unaligned_leaf_refused(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *pmd = hment_fx_ht(test, fx->user, 20, 1);
	struct hment_htable *pud = hment_fx_ht(test, fx->user, 30, 2);

	KUNIT_EXPECT_EQ(test, hment_map(fx->idx, pmd, 1, LEADER_2M + 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, hment_map(fx->idx, pud, 1, LEADER_2M), -EINVAL);
	/* a group that would run past the end of the index */
	KUNIT_EXPECT_EQ(test, hment_map(fx->idx, pud, 1,
					HMENT_FX_MAX_PFN - PUD_PAGES / 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, hment_map(fx->idx, pmd, 1, HMENT_FX_MAX_PFN),
			-ERANGE);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_MAPPINGS), 0);
}

static void hment_mapcnt_leaf_unmap(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *pmd = hment_fx_ht(test, fx->user, 20, 1);

	hment_fx_map_ok(test, pmd, 3, LEADER_2M);
	KUNIT_EXPECT_EQ(test, hment_unmap(fx->idx, pmd, 3, LEADER_2M), 0);
	KUNIT_EXPECT_EQ(test, hment_mapcnt_misses(test, LEADER_2M, PMD_PAGES, 0),
			0UL);
	KUNIT_EXPECT_EQ(test, hment_page_szc(hment_page_find(fx->idx, LEADER_2M)), 0U);
}

/* What hment_visit_mappings() showed: each mapping's leader, in order. */
struct hment_visit_log {
	unsigned long leaders[8];
	unsigned int n;
	unsigned int stop_after;	/* 0: never stop */
};

static bool hment_visit_note(void *arg, struct hment_htable *ht,
			     unsigned int entry, unsigned long leader)
{
	struct hment_visit_log *log = arg;

	if (log->n < ARRAY_SIZE(log->leaders))
		log->leaders[log->n] = leader;
	return ++log->n != log->stop_after;
}

/* A pfn under a 1G and a 2M leaf, with two PTEs of its own. */
static unsigned long hment_visit_setup(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *pud = hment_fx_ht(test, fx->user, 30, 2);
	struct hment_htable *pmd = hment_fx_ht(test, fx->user, 31, 1);
	struct hment_htable *pte = hment_fx_ht(test, fx->user, 32, 0);
	const unsigned long leader_2m = LEADER_1G + PMD_PAGES;

	hment_fx_map_ok(test, pud, 1, LEADER_1G);
	hment_fx_map_ok(test, pmd, 2, leader_2m);
	hment_fx_map_ok(test, pte, 3, leader_2m + 5);
	hment_fx_map_ok(test, pte, 4, leader_2m + 5);
	/* a PTE of the 2M leader maps the leader alone */
	hment_fx_map_ok(test, pte, 5, leader_2m);
	return leader_2m + 5;
}

static void hment_mapcnt_visit_agrees(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	unsigned long pfn = hment_visit_setup(test);
	struct hment_visit_log log = {};

	KUNIT_EXPECT_EQ(test, hment_visit_mappings(fx->idx, pfn,
						   hment_visit_note, &log), 4U);
	KUNIT_EXPECT_EQ(test, (unsigned long)log.n, hment_mapcnt(fx->idx, pfn));
	KUNIT_ASSERT_EQ(test, log.n, 4U);
	/* its own first, then each leader's at the leader's level */
	KUNIT_EXPECT_EQ(test, log.leaders[0], pfn);
	KUNIT_EXPECT_EQ(test, log.leaders[1], pfn);
	KUNIT_EXPECT_EQ(test, log.leaders[2], LEADER_1G + PMD_PAGES);
	KUNIT_EXPECT_EQ(test, log.leaders[3], LEADER_1G);
}

static void hment_mapcnt_visit_stops(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	unsigned long pfn = hment_visit_setup(test);
	struct hment_visit_log log = { .stop_after = 3 };

	KUNIT_EXPECT_EQ(test, hment_visit_mappings(fx->idx, pfn,
						   hment_visit_note, &log), 3U);
	KUNIT_EXPECT_EQ(test, log.n, 3U);
}

/*
 * Two hats' htables of one page-table page, a hugetlb PMD table they
 * share: its entry is one mapping to the kernel, however many list it.
 */
static void hment_mapcnt_shared_table(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_hat *other = hment_hat_create(fx->idx, 101, false);
	struct hment_visit_log log = {};
	struct hment_htable *a, *b, *own;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, other);
	a = hment_fx_ht(test, fx->user, 20, 1);
	b = hment_fx_ht(test, other, 20, 1);
	own = hment_fx_ht(test, other, 21, 1);
	hment_fx_map_ok(test, a, 3, LEADER_2M);
	hment_fx_map_ok(test, b, 3, LEADER_2M);
	/* not marked shared: two tables as far as the index knows */
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, LEADER_2M + 9), 2UL);

	/* one sharer marked (the other was synced before the sharing) */
	set_bit(HMENT_HT_SHARED, &b->ht_flags);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, LEADER_2M), 1UL);
	KUNIT_EXPECT_EQ(test, hment_mapcnt_misses(test, LEADER_2M, PMD_PAGES, 1),
			0UL);
	set_bit(HMENT_HT_SHARED, &a->ht_flags);
	KUNIT_EXPECT_EQ(test, hment_mapcnt_misses(test, LEADER_2M, PMD_PAGES, 1),
			0UL);

	/* an entry of a table of its own still counts */
	hment_fx_map_ok(test, own, 4, LEADER_2M);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, LEADER_2M), 2UL);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, LEADER_2M + 1), 2UL);
	/* and lookup lists every process */
	KUNIT_EXPECT_EQ(test, hment_visit_mappings(fx->idx, LEADER_2M + 1,
						   hment_visit_note, &log), 3U);
}

/* More shared tables than the count keeps in one pass: still exact. */
static void hment_mapcnt_shared_tables_many(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_visit_log log = {};
	struct hment_htable *ht;
	struct hment_hat *hat;
	unsigned int i;

	for (i = 0; i < 24; i++) {
		hat = hment_hat_create(fx->idx, 200 + i, false);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, hat);
		/* 12 tables, each shared by two hats */
		ht = hment_fx_ht(test, hat, 40 + i / 2, 1);
		set_bit(HMENT_HT_SHARED, &ht->ht_flags);
		hment_fx_map_ok(test, ht, 5, LEADER_2M);
	}
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, LEADER_2M), 12UL);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, LEADER_2M + 100), 12UL);
	KUNIT_EXPECT_EQ(test, hment_visit_mappings(fx->idx, LEADER_2M + 100,
						   hment_visit_note, &log), 24U);
}

/* Windows that start and end mid-chunk and mid-group, and past the end. */
static const struct {
	unsigned long first;
	unsigned long n;
} hment_range_windows[] = {
	{ LEADER_1G - 100, 1200 },		/* into the 1G page */
	{ LEADER_1G + PMD_PAGES - 37, 600 },	/* across a 2M leader */
	{ LEADER_1G + PMD_PAGES + 5, 1 },	/* one page, two PTEs */
	{ LEADER_1G + PUD_PAGES - 3, 70 },	/* out of the 1G page */
	{ 5000 - 70, 200 },			/* 4K mappings only */
	{ HMENT_FX_MAX_PFN - 50, 100 },		/* past the index's end */
};

/* hment_mapcnt_range() says for each page what hment_mapcnt() says. */
static void hment_mapcnt_range_agrees(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *pte = hment_fx_ht(test, fx->user, 33, 0);
	unsigned long i, w, first, n, misses, total;
	u64 *cnt;

	hment_visit_setup(test);
	/* both ends of a chunk of records, and a page mapped twice */
	hment_fx_map_ok(test, pte, 0, 4991);
	hment_fx_map_ok(test, pte, 1, 4992);
	hment_fx_map_ok(test, pte, 2, 5000);
	hment_fx_map_ok(test, hment_fx_ht(test, fx->user, 34, 0), 2, 5000);
	hment_fx_map_ok(test, pte, 3, HMENT_FX_MAX_PFN - 1);
	cnt = kunit_kmalloc_array(test, 1200, sizeof(*cnt), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cnt);

	for (w = 0; w < ARRAY_SIZE(hment_range_windows); w++) {
		first = hment_range_windows[w].first;
		n = hment_range_windows[w].n;
		memset(cnt, 0xa5, n * sizeof(*cnt));
		hment_mapcnt_range(fx->idx, first, n, cnt);
		misses = 0;
		total = 0;
		for (i = 0; i < n; i++) {
			misses += cnt[i] != hment_mapcnt(fx->idx, first + i);
			total += cnt[i];
		}
		KUNIT_EXPECT_EQ_MSG(test, misses, 0UL, "window %lu", w);
		/* each window holds mappings: a range of zeros proves nothing */
		KUNIT_EXPECT_GT_MSG(test, total, 0UL, "window %lu", w);
	}
}

static struct kunit_case hment_mapcnt_cases[] = {
	KUNIT_CASE(hment_mapcnt_4k),
	KUNIT_CASE(hment_mapcnt_2m_every_subpage),
	KUNIT_CASE(hment_mapcnt_1g_every_subpage),
	KUNIT_CASE(hment_mapcnt_unaligned_leaf_refused),
	KUNIT_CASE(hment_mapcnt_leaf_unmap),
	KUNIT_CASE(hment_mapcnt_visit_agrees),
	KUNIT_CASE(hment_mapcnt_visit_stops),
	KUNIT_CASE(hment_mapcnt_shared_table),
	KUNIT_CASE(hment_mapcnt_shared_tables_many),
	KUNIT_CASE(hment_mapcnt_range_agrees),
	{}
};

static struct kunit_suite hment_mapcnt_suite = {
	.name = "hment_mapcnt",
	.init = hment_fx_init,
	.exit = hment_fx_exit,
	.test_cases = hment_mapcnt_cases,
};

kunit_test_suite(hment_mapcnt_suite);
