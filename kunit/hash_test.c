// SPDX-License-Identifier: GPL-2.0
/*
 * hment_hash: the hash is sized by what it holds and resizes under
 * mappers, its shape is checked, and its chains stay short for the sharing
 * it was designed for.
 */
#include <linux/log2.h>
#include <linux/mm.h>

#include "hment_test.h"

/* Hments of a test: @n pages, each mapped by entry i of two htables. */
static void hment_hash_map_pairs(struct kunit *test, struct hment_htable **ht,
				 unsigned int n, unsigned long base)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		hment_fx_map_ok(test, ht[2 * (i / HMENT_ENTRIES)],
				i % HMENT_ENTRIES, base + i);
		hment_fx_map_ok(test, ht[2 * (i / HMENT_ENTRIES) + 1],
				i % HMENT_ENTRIES, base + i);
	}
}

static unsigned int hment_hash_found_pairs(struct kunit *test,
					   struct hment_htable **ht,
					   unsigned int n, unsigned long base)
{
	unsigned int i, found = 0;

	for (i = 0; i < n; i++)
		found += hment_fx_hashed(test, ht[2 * (i / HMENT_ENTRIES)],
					 i % HMENT_ENTRIES, base + i) +
			 hment_fx_hashed(test, ht[2 * (i / HMENT_ENTRIES) + 1],
					 i % HMENT_ENTRIES, base + i);
	return found;
}

#define HMENT_HASH_PAGES	(4 * HMENT_ENTRIES)
#define HMENT_HASH_BASE		8192UL

static struct hment_htable **hment_hash_tables(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	unsigned int i, n = 2 * HMENT_HASH_PAGES / HMENT_ENTRIES;
	struct hment_htable **ht;

	ht = kunit_kcalloc(test, n, sizeof(*ht), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ht);
	for (i = 0; i < n; i++)
		ht[i] = hment_fx_ht(test, fx->user, 300 + 7 * i, 0);
	return ht;
}

/* Nothing sized by RAM: one bucket per stripe until hments arrive. */
static void hment_hash_starts_small(struct kunit *test)
{
	struct hment_index *idx = hment_fx_idx(test);

	KUNIT_EXPECT_EQ(test, idx->hash_size, idx->hash_lock_mask + 1);
	KUNIT_EXPECT_EQ(test, idx->hash_size, 256U);
	KUNIT_EXPECT_EQ(test, hment_hash_count(idx), 0UL);
}

/*
 * Mappers queue the resize work as the hash fills and as it empties; after
 * it ran, the load is within its bounds and every hment is still found.
 */
static void hment_hash_grows_and_shrinks(struct kunit *test)
{
	struct hment_index *idx = hment_fx_idx(test);
	struct hment_htable **ht = hment_hash_tables(test);
	unsigned int i, n = HMENT_HASH_PAGES, hashed = 2 * n;

	hment_hash_map_pairs(test, ht, n, HMENT_HASH_BASE);
	flush_work(&idx->hash_work);
	KUNIT_EXPECT_EQ(test, hment_hash_count(idx), (unsigned long)hashed);
	/* at most a bucket per hment, and a mean chain under 2 */
	KUNIT_EXPECT_GE(test, hment_hash_count(idx), (unsigned long)idx->hash_size);
	KUNIT_EXPECT_LE(test, hment_hash_count(idx), 3UL * idx->hash_size / 2);
	KUNIT_EXPECT_GT(test, idx->hash_resizes, 0UL);
	KUNIT_EXPECT_EQ(test, hment_hash_found_pairs(test, ht, n, HMENT_HASH_BASE),
			hashed);
	hment_fx_expect_verified(test);

	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, hment_unmap(idx, ht[2 * (i / HMENT_ENTRIES)],
						  i % HMENT_ENTRIES,
						  HMENT_HASH_BASE + i), 0);
		KUNIT_EXPECT_EQ(test, hment_unmap(idx, ht[2 * (i / HMENT_ENTRIES) + 1],
						  i % HMENT_ENTRIES,
						  HMENT_HASH_BASE + i), 0);
	}
	flush_work(&idx->hash_work);
	KUNIT_EXPECT_EQ(test, hment_hash_count(idx), 0UL);
	KUNIT_EXPECT_EQ(test, idx->hash_size, 256U);
}

/* Every size from the smallest to far too large and back finds them all. */
static void hment_hash_lookups_across_resizes(struct kunit *test)
{
	static const unsigned int sizes[] = { 256, 4096, 1 << 16, 512, 256, 2048,
					      768, 3 * 4096 + 256 };
	struct hment_index *idx = hment_fx_idx(test);
	struct hment_htable **ht = hment_hash_tables(test);
	unsigned int i, n = HMENT_HASH_PAGES;

	hment_hash_map_pairs(test, ht, n, HMENT_HASH_BASE);
	flush_work(&idx->hash_work);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		KUNIT_ASSERT_EQ(test, hment_hash_resize(idx, sizes[i]), 0);
		KUNIT_EXPECT_EQ(test, idx->hash_size, sizes[i]);
		KUNIT_EXPECT_EQ(test, hment_hash_found_pairs(test, ht, n,
							     HMENT_HASH_BASE),
				2 * n);
		KUNIT_EXPECT_EQ(test, hment_hash_count(idx), 2UL * n);
		hment_fx_expect_verified(test);
	}
	/* bounds: never fewer buckets than stripes, always a multiple of them */
	KUNIT_EXPECT_EQ(test, hment_hash_resize(idx, 128), -EINVAL);
	KUNIT_EXPECT_EQ(test, hment_hash_resize(idx, 3000), -EINVAL);
}

struct hment_hash_midway {
	struct kunit *test;
	struct hment_htable *a, *b;
	DECLARE_BITMAP(mapped, HMENT_ENTRIES);
	DECLARE_BITMAP(unmapped, HMENT_ENTRIES);
	unsigned int calls;
};

#define HMENT_HASH_MIDWAY_PFN	20000UL

/*
 * Between two batches of a stripe: map (a promotion: two hments hashed)
 * and unmap every mapping whose bucket has just moved, so that mappers
 * must use the new table for them and the old one for the rest.
 */
static void hment_hash_midway_hook(struct hment_index *idx, void *data)
{
	struct hment_hash_midway *m = data;
	unsigned long pfn;
	unsigned int e;

	m->calls++;
	for (e = 0; e < HMENT_ENTRIES; e++) {
		pfn = HMENT_HASH_MIDWAY_PFN + e;
		if (e & 1) {
			/* odd entries: listed before the resize; unmap b's */
			if (test_bit(e, m->unmapped) ||
			    !hment_hash_key_moved(idx, m->b, e))
				continue;
			KUNIT_EXPECT_EQ(m->test, hment_unmap(idx, m->b, e, pfn), 0);
			__set_bit(e, m->unmapped);
		} else {
			if (test_bit(e, m->mapped) ||
			    !hment_hash_key_moved(idx, m->b, e))
				continue;
			KUNIT_EXPECT_EQ(m->test, hment_map(idx, m->b, e, pfn), 1);
			__set_bit(e, m->mapped);
		}
	}
}

/*
 * Mappings added and removed while a stripe is half moved are found (or
 * not) once the resize is over: from 64K buckets, 256 per stripe, each
 * stripe moves in four batches.
 */
static void hment_hash_midway_mappers(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_index *idx = fx->idx;
	struct hment_hash_midway *m;
	unsigned int e;

	m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m);
	m->test = test;
	m->a = hment_fx_ht(test, fx->user, 700, 0);
	m->b = hment_fx_ht(test, fx->user, 701, 0);
	for (e = 0; e < HMENT_ENTRIES; e++) {
		hment_fx_map_ok(test, m->a, e, HMENT_HASH_MIDWAY_PFN + e);
		if (e & 1)
			hment_fx_map_ok(test, m->b, e, HMENT_HASH_MIDWAY_PFN + e);
	}
	KUNIT_ASSERT_EQ(test, hment_hash_resize(idx, 1 << 16), 0);

	idx->resize_hook_data = m;
	idx->resize_hook = hment_hash_midway_hook;
	KUNIT_EXPECT_EQ(test, hment_hash_resize(idx, 256), 0);
	idx->resize_hook = NULL;

	kunit_info(test, "%u hook calls: %u mapped, %u unmapped midway\n",
		   m->calls, bitmap_weight(m->mapped, HMENT_ENTRIES),
		   bitmap_weight(m->unmapped, HMENT_ENTRIES));
	/* most buckets move before a stripe's last batch */
	KUNIT_EXPECT_GT(test, bitmap_weight(m->mapped, HMENT_ENTRIES), 64U);
	KUNIT_EXPECT_GT(test, bitmap_weight(m->unmapped, HMENT_ENTRIES), 64U);
	for (e = 0; e < HMENT_ENTRIES; e++) {
		bool listed = (e & 1) ? !test_bit(e, m->unmapped) :
					test_bit(e, m->mapped);

		KUNIT_EXPECT_EQ(test, hment_fx_hashed(test, m->b, e,
						      HMENT_HASH_MIDWAY_PFN + e),
				listed);
		KUNIT_EXPECT_EQ(test, hment_mapcnt(idx, HMENT_HASH_MIDWAY_PFN + e),
				listed ? 2UL : 1UL);
	}
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_REMOVE_MISSING), 0);
}

struct hment_hash_behind {
	struct hment_index *idx;
	struct hment_htable **ht;
	unsigned int calls, failed;
};

/* The first batch boundary of a shrink: fill the hash far past it. */
static void hment_hash_behind_hook(struct hment_index *idx, void *data)
{
	struct hment_hash_behind *b = data;
	unsigned int i;

	if (b->calls++)
		return;
	for (i = 0; i < HMENT_HASH_PAGES; i++) {
		b->failed += hment_map(idx, b->ht[2 * (i / HMENT_ENTRIES)],
				       i % HMENT_ENTRIES,
				       HMENT_HASH_BASE + i) != 1;
		b->failed += hment_map(idx, b->ht[2 * (i / HMENT_ENTRIES) + 1],
				       i % HMENT_ENTRIES,
				       HMENT_HASH_BASE + i) != 1;
	}
}

/*
 * Mappers go on while the work resizes: when it is done they may all be
 * past the thresholds of the size it chose, and never cross them again.
 * Here the work shrinks an empty 64K-bucket hash and 4096 hments arrive
 * meanwhile; the work must size the hash for them before it stops.
 */
static void hment_hash_catches_up(struct kunit *test)
{
	struct hment_index *idx = hment_fx_idx(test);
	struct hment_hash_behind *b;

	b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b);
	b->ht = hment_hash_tables(test);
	KUNIT_ASSERT_EQ(test, hment_hash_resize(idx, 1 << 16), 0);

	idx->resize_hook_data = b;
	idx->resize_hook = hment_hash_behind_hook;
	queue_work(system_unbound_wq, &idx->hash_work);
	flush_work(&idx->hash_work);
	idx->resize_hook = NULL;

	KUNIT_EXPECT_GT(test, b->calls, 0U);
	KUNIT_EXPECT_EQ(test, b->failed, 0U);
	KUNIT_EXPECT_EQ(test, hment_hash_count(idx), 2UL * HMENT_HASH_PAGES);
	kunit_info(test, "%lu hments in %u buckets after %lu resizes\n",
		   hment_hash_count(idx), idx->hash_size, idx->hash_resizes);
	KUNIT_EXPECT_LE(test, hment_hash_count(idx),
			3UL * idx->hash_size / 2);
	KUNIT_EXPECT_EQ(test, hment_hash_found_pairs(test, b->ht,
						     HMENT_HASH_PAGES,
						     HMENT_HASH_BASE),
			2 * HMENT_HASH_PAGES);
}

/*
 * A first sync sizes the hash for the hments it expects before adding
 * them: they then arrive without a resize, at a load the table would not
 * grow at. Expecting what already fits changes nothing.
 */
static void hment_hash_sized_ahead(struct kunit *test)
{
	struct hment_index *idx = hment_fx_idx(test);
	struct hment_htable **ht = hment_hash_tables(test);
	unsigned int n = HMENT_HASH_PAGES, hashed = 2 * n;
	unsigned long resizes;

	KUNIT_ASSERT_EQ(test, hment_hash_expect(idx, 100), 0);
	KUNIT_EXPECT_EQ(test, idx->hash_size, 256U);
	KUNIT_EXPECT_EQ(test, idx->hash_resizes, 0UL);

	KUNIT_ASSERT_EQ(test, hment_hash_expect(idx, hashed), 0);
	resizes = idx->hash_resizes;
	KUNIT_EXPECT_EQ(test, resizes, 1UL);
	/*
	 * Room for them all below the growth threshold, at a load of 1.3 but
	 * for rounding to a multiple of the stripes.
	 */
	KUNIT_EXPECT_LE(test, 2UL * hashed, 3UL * idx->hash_size);
	KUNIT_EXPECT_LT(test, 13UL * (idx->hash_size - idx->hash_lock_mask - 1),
			10UL * hashed);

	hment_hash_map_pairs(test, ht, n, HMENT_HASH_BASE);
	flush_work(&idx->hash_work);
	KUNIT_EXPECT_EQ(test, idx->hash_resizes, resizes);
	KUNIT_EXPECT_EQ(test, hment_hash_found_pairs(test, ht, n, HMENT_HASH_BASE),
			hashed);
	hment_fx_expect_verified(test);
	/* never shrinks it */
	KUNIT_ASSERT_EQ(test, hment_hash_expect(idx, 0), 0);
	KUNIT_EXPECT_EQ(test, idx->hash_resizes, resizes);
}

/*
 * Hments spread evenly over the stripes must not fill the hash past its
 * growth load with no stripe asking for a resize: here 16 to a stripe in
 * 2,560 buckets, a load of 1.6, which a threshold shared by the stripes
 * (their share of a load of 1.5, plus 2: 17) never saw.
 */
static void hment_hash_grows_when_even(struct kunit *test)
{
	struct hment_index *idx = hment_fx_idx(test);
	struct hment_htable **ht = hment_hash_tables(test);
	unsigned int n = HMENT_HASH_PAGES, hashed = 2 * n;

	KUNIT_ASSERT_EQ(test, hment_hash_resize(idx, 2560), 0);
	hment_hash_map_pairs(test, ht, n, HMENT_HASH_BASE);
	flush_work(&idx->hash_work);
	kunit_info(test, "%u hments in %u buckets\n", hashed, idx->hash_size);
	KUNIT_EXPECT_LE(test, 2UL * hashed, 3UL * idx->hash_size);
	KUNIT_EXPECT_EQ(test, hment_hash_found_pairs(test, ht, n, HMENT_HASH_BASE),
			hashed);
}

/* A fixed size stays put however full it gets. */
static void hment_hash_fixed_size_stays(struct kunit *test)
{
	struct hment_params p = hment_fx_params();
	struct hment_htable **ht;
	struct hment_index *idx;

	hment_fx_exit(test);	/* the suite's growing index: not this one */
	p.hash_buckets = 64;
	hment_fx_create(test, &p);
	idx = hment_fx_idx(test);
	KUNIT_EXPECT_EQ(test, idx->hash_lock_mask + 1, 64U);
	ht = hment_hash_tables(test);
	hment_hash_map_pairs(test, ht, HMENT_HASH_PAGES, HMENT_HASH_BASE);
	flush_work(&idx->hash_work);
	KUNIT_EXPECT_EQ(test, idx->hash_size, 64U);
	KUNIT_EXPECT_EQ(test, idx->hash_resizes, 0UL);
	KUNIT_EXPECT_EQ(test, hment_hash_resize(idx, 128), -EINVAL);
	KUNIT_EXPECT_EQ(test, hment_hash_expect(idx, 1UL << 20), 0);
	KUNIT_EXPECT_EQ(test, idx->hash_size, 64U);
}

struct hment_hash_shape {
	const char *name;
	unsigned int buckets, mlist_locks, hash_locks;
	int err;
};

static const struct hment_hash_shape hment_hash_shapes[] = {
	{ "one_of_each", 1, 1, 1, 0 },
	{ "defaults", 1024, 256, 256, 0 },
	{ "buckets_not_pow2", 1000, 256, 256, -EINVAL },
	{ "mlist_locks_not_pow2", 1024, 3, 256, -EINVAL },
	{ "hash_locks_zero", 1024, 256, 0, -EINVAL },
};

static void hment_hash_shape_desc(const struct hment_hash_shape *s, char *desc)
{
	strscpy(desc, s->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(hment_hash_shape, hment_hash_shapes, hment_hash_shape_desc);

static void hment_hash_shape_checked(struct kunit *test)
{
	const struct hment_hash_shape *s = test->param_value;
	struct hment_params p = hment_fx_params();
	struct hment_index *idx;

	p.hash_buckets = s->buckets;
	p.mlist_locks = s->mlist_locks;
	p.hash_locks = s->hash_locks;
	idx = hment_index_create(&p);
	if (s->err) {
		KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(idx), (long)s->err);
		return;
	}
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, idx);
	KUNIT_EXPECT_EQ(test, idx->hash_size, s->buckets);
	KUNIT_EXPECT_EQ(test, idx->mlist_lock_mask + 1, s->mlist_locks);
	KUNIT_EXPECT_EQ(test, idx->hash_lock_mask + 1, s->hash_locks);
	hment_index_destroy(idx);
}

/*
 * A library mapped at the same address by many processes: the same entries
 * in many page-table pages, every page shared. Keyed on the entry alone,
 * each chain would hold one hment per process; mixing in the page-table
 * pfn must spread them out, at the load the hash grows itself to.
 */
static void hment_hash_chains_shared_library(struct kunit *test)
{
	const unsigned int procs = 64, pages = 256;
	struct hment_index *idx = hment_fx_idx(test);
	unsigned long longest, used, hashed;
	struct hment_hat *hat;
	struct hment_htable *ht;
	unsigned int i, e;

	for (i = 0; i < procs; i++) {
		hat = hment_hat_create(idx, 1000 + i, false);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, hat);
		ht = hment_fx_ht(test, hat, 50000 + 3 * i, 0);
		for (e = 0; e < pages; e++)
			hment_fx_map_ok(test, ht, e, 7000 + e);
	}
	flush_work(&idx->hash_work);

	hment_hash_chains(idx, &longest, &used);
	hashed = hment_fx_stat(test, HMENT_STAT_LIVE_HMENTS);
	KUNIT_EXPECT_EQ(test, hashed, (unsigned long)procs * pages);
	kunit_info(test, "%lu hments in %u buckets: %lu used, longest chain %lu\n",
		   hashed, idx->hash_size, used, longest);
	/* mean chain over used buckets at most 2, and no long outliers */
	KUNIT_EXPECT_LE(test, hashed, 2 * used);
	KUNIT_EXPECT_LE(test, longest, 4UL);
}

static struct kunit_case hment_hash_cases[] = {
	KUNIT_CASE(hment_hash_starts_small),
	KUNIT_CASE(hment_hash_grows_and_shrinks),
	KUNIT_CASE(hment_hash_lookups_across_resizes),
	KUNIT_CASE(hment_hash_midway_mappers),
	KUNIT_CASE(hment_hash_catches_up),
	KUNIT_CASE(hment_hash_sized_ahead),
	KUNIT_CASE(hment_hash_grows_when_even),
	KUNIT_CASE(hment_hash_fixed_size_stays),
	KUNIT_CASE_PARAM(hment_hash_shape_checked, hment_hash_shape_gen_params),
	KUNIT_CASE(hment_hash_chains_shared_library),
	{}
};

static int hment_hash_suite_init(struct kunit *test)
{
	struct hment_params p = hment_fx_params();

	p.hash_buckets = 0;
	hment_fx_create(test, &p);
	return 0;
}

static struct kunit_suite hment_hash_suite = {
	.name = "hment_hash",
	.init = hment_hash_suite_init,
	.exit = hment_fx_exit,
	.test_cases = hment_hash_cases,
};

kunit_test_suite(hment_hash_suite);
