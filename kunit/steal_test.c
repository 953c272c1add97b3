// SPDX-License-Identifier: GPL-2.0
/*
 * hment_steal: with the cache failing and the reserve empty, an hment is
 * taken from some page's list: only from a user htable that is neither
 * being synced nor mlocked, starting where the last steal stopped.
 */
#include "hment_test.h"

#define TARGET	2000UL

/* Shared set-up: the target page is listed with two kernel mappings. */
struct hment_steal_env {
	struct hment_htable *k[8];
};

static void hment_steal_setup(struct kunit *test, struct hment_steal_env *env)
{
	struct hment_fx *fx = test->priv;
	int i;

	for (i = 0; i < ARRAY_SIZE(env->k); i++)
		env->k[i] = hment_fx_ht(test, fx->kernel, 9000 + i, 0);
	hment_fx_map_ok(test, env->k[0], 1, TARGET);
	hment_fx_map_ok(test, env->k[1], 1, TARGET);
}

/* From now on every cache allocation fails (hments; not shadow blocks). */
static void hment_steal_fail_cache(struct kunit *test)
{
	atomic_set(&hment_fx_idx(test)->fault.sites, BIT(HMENT_FAULT_HMENT));
	atomic_set(&hment_fx_idx(test)->fault.every, 1);
}

/*
 * A page listed with two mappings from the htables @a and @b, at an entry
 * that depends on the pfn: one entry of a page table maps one page.
 */
static void hment_steal_page(struct kunit *test, struct hment_htable *a,
			     struct hment_htable *b, unsigned long pfn)
{
	hment_fx_map_ok(test, a, pfn % HMENT_ENTRIES, pfn);
	hment_fx_map_ok(test, b, pfn % HMENT_ENTRIES, pfn);
}

static void hment_steal_from_user(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *u1 = hment_fx_ht(test, fx->user, 100, 0);
	struct hment_htable *u2 = hment_fx_ht(test, fx->user, 101, 0);
	struct hment_htable *hts[4];
	unsigned int entries[4];
	struct hment_steal_env env;

	hment_steal_setup(test, &env);
	hment_steal_page(test, u1, u2, 1000);
	hment_steal_fail_cache(test);

	KUNIT_EXPECT_EQ(test, hment_map(fx->idx, env.k[2], 1, TARGET), 1);

	KUNIT_EXPECT_EQ(test, hment_fx_share(test, TARGET), 3U);
	/* the victim is the newest mapping of the first listed page */
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, 1000), 1U);
	KUNIT_ASSERT_EQ(test, hment_fx_walk(test, 1000, hts, entries, 4), 1);
	KUNIT_EXPECT_PTR_EQ(test, hts[0], u1);
	KUNIT_EXPECT_FALSE(test, hment_fx_hashed(test, u2, 1000 % HMENT_ENTRIES,
						 1000));
	KUNIT_EXPECT_TRUE(test, test_bit(HMENT_HT_STALE, &u2->ht_flags));
	KUNIT_EXPECT_FALSE(test, test_bit(HMENT_HT_STALE, &u1->ht_flags));
	KUNIT_EXPECT_EQ(test, hment_htable_shadow(u2, 1000 % HMENT_ENTRIES),
			HMENT_NO_PFN);
	KUNIT_EXPECT_EQ(test, hment_htable_shadow(u1, 1000 % HMENT_ENTRIES),
			1000UL);
	KUNIT_EXPECT_EQ(test, atomic_read(&u2->ht_valid_cnt), 0);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_STEALS), 1);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_STOLEN), 1);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_STALE_HTABLES), 1);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_ALLOC_FAIL), 0);
	KUNIT_EXPECT_GT(test, hment_fx_stat(test, HMENT_STAT_FAULT_INJECTED), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fx->idx->steal_rotor), 1001L);

	/* the index forgot the stolen mapping; removing it is not a bug */
	KUNIT_EXPECT_EQ(test, hment_unmap(fx->idx, u2, 1000 % HMENT_ENTRIES, 1000),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_REMOVE_MISSING), 0);
}

/* Records that exist in [first, last]: the ones a steal examines. */
static long hment_steal_records(struct kunit *test, unsigned long first,
				unsigned long last)
{
	unsigned long pfn;
	long n = 0;

	for (pfn = first; pfn <= last; pfn++)
		n += !!hment_page_find(hment_fx_idx(test), pfn);
	return n;
}

static void hment_steal_skips_protected(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *busy[2], *locked[2], *user[2];
	struct hment_steal_env env;
	int i;

	hment_steal_setup(test, &env);
	for (i = 0; i < 2; i++) {
		busy[i] = hment_fx_ht(test, fx->user, 200 + i, 0);
		locked[i] = hment_fx_ht(test, fx->user, 300 + i, 0);
		user[i] = hment_fx_ht(test, fx->user, 400 + i, 0);
		atomic_set(&busy[i]->ht_busy, 1);
		atomic_set(&locked[i]->ht_lock_cnt, 1);
	}
	/* in rotor order: kernel-only, busy, locked, then a fair victim */
	hment_steal_page(test, env.k[3], env.k[4], 600);
	hment_steal_page(test, busy[0], busy[1], 700);
	hment_steal_page(test, locked[0], locked[1], 800);
	hment_steal_page(test, user[0], user[1], 900);
	hment_steal_fail_cache(test);

	KUNIT_EXPECT_EQ(test, hment_map(fx->idx, env.k[2], 1, TARGET), 1);

	KUNIT_EXPECT_EQ(test, hment_fx_share(test, 600), 2U);
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, 700), 2U);
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, 800), 2U);
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, 900), 1U);
	KUNIT_EXPECT_TRUE(test, test_bit(HMENT_HT_STALE, &user[1]->ht_flags));
	/* every record from the start of the first chunk up to the victim */
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_STEAL_EXAM),
			hment_steal_records(test, round_down(600, HMENT_CHUNK_PFNS),
					    900));
	for (i = 0; i < 2; i++) {
		atomic_set(&busy[i]->ht_busy, 0);
		atomic_set(&locked[i]->ht_lock_cnt, 0);
	}
}

static void hment_steal_rotor_moves_on(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	static const unsigned long pages[] = { 600, 700, 800 };
	struct hment_htable *u[2];
	struct hment_steal_env env;
	int i;

	hment_steal_setup(test, &env);
	u[0] = hment_fx_ht(test, fx->user, 100, 0);
	u[1] = hment_fx_ht(test, fx->user, 101, 0);
	for (i = 0; i < ARRAY_SIZE(pages); i++)
		hment_steal_page(test, u[0], u[1], pages[i]);
	hment_steal_fail_cache(test);

	/* each steal starts past the last victim, then wraps around */
	for (i = 0; i < 4; i++) {
		unsigned long victim = pages[i % ARRAY_SIZE(pages)];

		KUNIT_EXPECT_EQ(test, hment_map(fx->idx, env.k[2 + i], 1, TARGET),
				1);
		KUNIT_EXPECT_EQ(test, atomic_long_read(&fx->idx->steal_rotor),
				(long)victim + 1);
	}
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, 600), 0U);
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, 700), 1U);
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, 800), 1U);
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, TARGET), 6U);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_STOLEN), 4);
}

static void hment_steal_nothing_fails_cleanly(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *u = hment_fx_ht(test, fx->user, 100, 0);
	struct hment_steal_env env;

	hment_steal_setup(test, &env);
	/* an embedded mapping has no hment to give */
	hment_fx_map_ok(test, u, 4, 600);
	hment_steal_fail_cache(test);

	KUNIT_EXPECT_EQ(test, hment_map(fx->idx, env.k[2], 1, TARGET), -ENOMEM);

	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_ALLOC_FAIL), 1);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_STEALS), 1);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_STOLEN), 0);
	KUNIT_EXPECT_TRUE(test, test_bit(HMENT_HT_STALE, &env.k[2]->ht_flags));
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_STALE_HTABLES), 1);
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, TARGET), 2U);
	KUNIT_EXPECT_TRUE(test, hment_fx_embedded(test, 600));
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_MAPPINGS), 3);

	/* once the cache works again, so does mapping */
	atomic_set(&fx->idx->fault.every, 0);
	KUNIT_EXPECT_EQ(test, hment_map(fx->idx, env.k[2], 1, TARGET), 1);
	hment_htable_clear_stale(fx->idx, env.k[2]);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_STALE_HTABLES), 0);
}

/*
 * Nothing is stealable anywhere: the scan stops after a bounded number of
 * records, under the caller's locks, and counts that it gave up.
 */
static void hment_steal_scan_bounded(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *u = hment_fx_ht(test, fx->user, 100, 0);
	struct hment_steal_env env;
	unsigned int i;

	hment_steal_setup(test, &env);
	/* more records than one scan examines, all embedded: nothing to give */
	for (i = 0; i <= HMENT_STEAL_SCAN / HMENT_CHUNK_PFNS; i++)
		hment_fx_map_ok(test, u, i, 4 * HMENT_CHUNK_PFNS +
				i * HMENT_CHUNK_PFNS);
	hment_steal_fail_cache(test);

	KUNIT_EXPECT_EQ(test, hment_map(fx->idx, env.k[2], 1, TARGET), -ENOMEM);
	KUNIT_EXPECT_LE(test, hment_fx_stat(test, HMENT_STAT_STEAL_EXAM),
			(long)HMENT_STEAL_SCAN);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_STEAL_GIVEUP), 1);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_ALLOC_FAIL), 1);
	atomic_set(&fx->idx->fault.every, 0);
	hment_htable_clear_stale(fx->idx, env.k[2]);
}

/*
 * The rotor sits in an unallocated last chunk that is only partly inside
 * the index: the scan must wrap to pfn 0, not past it.
 */
static void hment_steal_rotor_wraps_partial_chunk(struct kunit *test)
{
	struct hment_params p = hment_fx_params();
	struct hment_htable *k[3], *u[2];
	struct hment_fx *fx;
	int i;

	p.max_pfn = HMENT_CHUNK_PFNS + 488;	/* chunk 1 is partial */
	hment_fx_exit(test);		/* the suite's index, unused */
	fx = hment_fx_create(test, &p);
	for (i = 0; i < 3; i++)
		k[i] = hment_fx_ht(test, fx->kernel, 9000 + i, 0);
	for (i = 0; i < 2; i++)
		u[i] = hment_fx_ht(test, fx->user, 100 + i, 0);
	hment_steal_page(test, u[0], u[1], 10);
	hment_fx_map_ok(test, k[0], 1, 100);
	hment_fx_map_ok(test, k[1], 1, 100);
	atomic_long_set(&fx->idx->steal_rotor, 600);
	hment_steal_fail_cache(test);

	KUNIT_EXPECT_EQ(test, hment_map(fx->idx, k[2], 1, 100), 1);
	KUNIT_EXPECT_EQ(test, hment_fx_share(test, 10), 1U);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fx->idx->steal_rotor), 11L);
	atomic_set(&fx->idx->fault.every, 0);
}

/*
 * The victim's htable may be freed by its owner as soon as its valid count
 * reaches zero (here: from inside the stealer, at the worst moment). It must
 * already be stale then, or the stale gauge counts a table that is gone.
 */
static void hment_steal_put_victim(struct hment_index *idx,
				   struct hment_htable *ht)
{
	idx->steal_hook = NULL;
	hment_htable_try_free(ht);
}

static void hment_steal_stale_before_unlink(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *u1 = hment_fx_ht(test, fx->user, 100, 0);
	struct hment_htable *u2 = hment_fx_ht(test, fx->user, 101, 0);
	struct hment_steal_env env;

	hment_steal_setup(test, &env);
	/* u2 holds one mapping only: the victim empties it */
	hment_steal_page(test, u1, u2, 1000);
	hment_steal_fail_cache(test);
	fx->idx->steal_hook = hment_steal_put_victim;

	/* the owner's lock, for the hook's put */
	mutex_lock(&fx->user->lock);
	KUNIT_EXPECT_EQ(test, hment_map(fx->idx, env.k[2], 1, TARGET), 1);
	mutex_unlock(&fx->user->lock);
	KUNIT_EXPECT_NULL(test, hment_htable_lookup(fx->user, 0, 101UL <<
						    hment_level_shift(0)));
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_STALE_HTABLES), 0);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_HTABLES), 9);
	atomic_set(&fx->idx->fault.every, 0);
}

static struct kunit_case hment_steal_cases[] = {
	KUNIT_CASE(hment_steal_from_user),
	KUNIT_CASE(hment_steal_skips_protected),
	KUNIT_CASE(hment_steal_rotor_moves_on),
	KUNIT_CASE(hment_steal_nothing_fails_cleanly),
	KUNIT_CASE(hment_steal_scan_bounded),
	KUNIT_CASE(hment_steal_rotor_wraps_partial_chunk),
	KUNIT_CASE(hment_steal_stale_before_unlink),
	{}
};

static struct kunit_suite hment_steal_suite = {
	.name = "hment_steal",
	.init = hment_fx_init,
	.exit = hment_fx_exit,
	.test_cases = hment_steal_cases,
};

kunit_test_suite(hment_steal_suite);
