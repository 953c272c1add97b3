// SPDX-License-Identifier: GPL-2.0
/*
 * hment_hash: the hash is sized from RAM at load, its shape is checked,
 * and its chains stay short for the sharing it was designed for.
 */
#include <linux/log2.h>
#include <linux/mm.h>

#include "hment_test.h"

static void hment_hash_sized_from_ram(struct kunit *test)
{
	struct hment_params p = hment_fx_params();
	unsigned long buckets, ram = totalram_pages();

	p.hash_buckets = 0;
	hment_fx_create(test, &p);
	buckets = hment_fx_idx(test)->hash_mask + 1;

	KUNIT_EXPECT_EQ(test, buckets, (unsigned long)hment_default_hash_buckets());
	KUNIT_EXPECT_TRUE(test, is_power_of_2(buckets));
	/* one bucket per page of RAM, within the bounds */
	KUNIT_EXPECT_GE(test, buckets, min(max(ram, 1UL << 12), 1UL << 24));
	KUNIT_EXPECT_LT(test, buckets, 2 * max(ram, 1UL << 12));
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
	KUNIT_EXPECT_EQ(test, idx->hash_mask + 1, s->buckets);
	KUNIT_EXPECT_EQ(test, idx->mlist_lock_mask + 1, s->mlist_locks);
	KUNIT_EXPECT_EQ(test, idx->hash_lock_mask + 1, s->hash_locks);
	hment_index_destroy(idx);
}

/*
 * A library mapped at the same address by many processes: the same entries
 * in many page-table pages, every page shared. Keyed on the entry alone,
 * each chain would hold one hment per process; mixing in the page-table
 * pfn must spread them out, at a load of one hment per bucket.
 */
static void hment_hash_chains_shared_library(struct kunit *test)
{
	const unsigned int procs = 64, pages = 256;
	struct hment_params p = hment_fx_params();
	unsigned long longest, used, hashed;
	struct hment_hat *hat;
	struct hment_htable *ht;
	unsigned int i, e;

	p.hash_buckets = procs * pages;
	hment_fx_create(test, &p);
	for (i = 0; i < procs; i++) {
		hat = hment_hat_create(hment_fx_idx(test), 1000 + i, false);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, hat);
		ht = hment_fx_ht(test, hat, 50000 + 3 * i, 0);
		for (e = 0; e < pages; e++)
			hment_fx_map_ok(test, ht, e, 7000 + e);
	}

	hment_hash_chains(hment_fx_idx(test), &longest, &used);
	hashed = hment_fx_stat(test, HMENT_STAT_LIVE_HMENTS);
	KUNIT_EXPECT_EQ(test, hashed, (unsigned long)procs * pages);
	kunit_info(test, "%lu hments in %u buckets: %lu used, longest chain %lu\n",
		   hashed, p.hash_buckets, used, longest);
	/* mean chain over used buckets at most 2, and no long outliers */
	KUNIT_EXPECT_LE(test, hashed, 2 * used);
	KUNIT_EXPECT_LE(test, longest, 4UL);
}

static struct kunit_case hment_hash_cases[] = {
	KUNIT_CASE(hment_hash_sized_from_ram),
	KUNIT_CASE_PARAM(hment_hash_shape_checked, hment_hash_shape_gen_params),
	KUNIT_CASE(hment_hash_chains_shared_library),
	{}
};

static struct kunit_suite hment_hash_suite = {
	.name = "hment_hash",
	.exit = hment_fx_exit,
	.test_cases = hment_hash_cases,
};

kunit_test_suite(hment_hash_suite);
