// SPDX-License-Identifier: GPL-2.0
/*
 * hment_htable: an htable remembers which pfn the index holds for each of
 * its entries, so that mappings can be dropped by address range alone (as
 * the notifier does) and a table that went away can be emptied.
 */
#include <linux/kthread.h>
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
	mutex_lock(&fx->user->lock);
	again = hment_htable_find_or_alloc(fx->user, 0, a->ht_va, a->ht_pfn + 1);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(again), (long)-EEXIST);
	KUNIT_EXPECT_PTR_EQ(test,
			    hment_htable_find_or_alloc(fx->user, 0,
						       a->ht_va + 4096,
						       a->ht_pfn), a);
	mutex_unlock(&fx->user->lock);
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
	mutex_lock(&fx->user->lock);
	KUNIT_EXPECT_EQ(test, hment_htable_try_free(a), -EBUSY);
	KUNIT_EXPECT_EQ(test, hment_htable_clear(fx->idx, a), 2U);
	KUNIT_EXPECT_EQ(test, hment_htable_try_free(a), 0);
	mutex_unlock(&fx->user->lock);
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

/*
 * Addresses as sparse as a process's: tables near 0, near the top of user
 * space and in the kernel half, at every level, so that keys of different
 * levels are equal numbers (va >> 21 of one is va >> 30 of another).
 */
#define HMENT_SPARSE	120

static unsigned long hment_sparse_va(unsigned int i)
{
	static const unsigned long bases[] = {
		0, 0x7f8000000000UL, 0xffff888000000000UL, 0xffffc90000000000UL,
	};

	return bases[i % ARRAY_SIZE(bases)] +
	       ((unsigned long)(i / ARRAY_SIZE(bases)) <<
		hment_level_shift(i % HMENT_LEVELS));
}

static unsigned int hment_hash_bits(struct hment_hat *hat)
{
	unsigned int bits;

	rcu_read_lock();
	bits = rcu_dereference(hat->ht_hash)->bits;
	rcu_read_unlock();
	return bits;
}

static struct hment_htable *hment_sparse_get(struct kunit *test,
					     struct hment_hat *hat,
					     unsigned int i)
{
	struct hment_htable *ht;

	mutex_lock(&hat->lock);
	ht = hment_htable_find_or_alloc(hat, i % HMENT_LEVELS,
					hment_sparse_va(i), 1000 + i);
	mutex_unlock(&hat->lock);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ht);
	return ht;
}

/* Every htable found from any address of its span, and nothing else. */
static void hment_expect_found(struct kunit *test, struct hment_hat *hat,
			       struct hment_htable **hts, unsigned int n)
{
	unsigned long va, span;
	unsigned int i, level;

	for (i = 0; i < n; i++) {
		level = i % HMENT_LEVELS;
		va = hment_sparse_va(i);
		span = 1UL << hment_level_shift(level);
		KUNIT_EXPECT_PTR_EQ(test, hment_htable_lookup(hat, level, va),
				    hts[i]);
		KUNIT_EXPECT_PTR_EQ(test, hment_htable_lookup(hat, level,
							      va + span - 1),
				    hts[i]);
		/* the other levels at the same address are other tables */
		if (hts[i])
			KUNIT_EXPECT_EQ(test, hts[i]->ht_va, va);
	}
	/* a neighbour nobody made */
	KUNIT_EXPECT_NULL(test, hment_htable_lookup(hat, 0, 0x7fe000000000UL));
}

static void hment_htable_hash_grows(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_hat *hat = fx->user;
	struct hment_htable **hts;
	unsigned int i, first_bits = hment_hash_bits(hat);

	hts = kunit_kcalloc(test, HMENT_SPARSE, sizeof(*hts), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, hts);
	KUNIT_EXPECT_EQ(test, first_bits, (unsigned int)HMENT_HT_HASH_BITS);
	for (i = 0; i < HMENT_SPARSE; i++) {
		hts[i] = hment_sparse_get(test, hat, i);
		/* found at once, through whatever resize it caused */
		KUNIT_EXPECT_PTR_EQ(test,
				    hment_htable_lookup(hat, i % HMENT_LEVELS,
							hment_sparse_va(i)),
				    hts[i]);
	}
	KUNIT_EXPECT_EQ(test, hat->ht_count, (unsigned int)HMENT_SPARSE);
	/* at most two per bucket: 120 htables, 64 buckets */
	KUNIT_EXPECT_EQ(test, hment_hash_bits(hat), 6U);
	hment_expect_found(test, hat, hts, HMENT_SPARSE);
	/* asking again for one finds it, whatever address of its span */
	KUNIT_EXPECT_PTR_EQ(test, hment_sparse_get(test, hat, 7), hts[7]);
	KUNIT_EXPECT_EQ(test, hat->ht_count, (unsigned int)HMENT_SPARSE);

	/* every other one goes; the rest stay where they were */
	mutex_lock(&hat->lock);
	for (i = 0; i < HMENT_SPARSE; i += 2) {
		KUNIT_EXPECT_EQ(test, hment_htable_try_free(hts[i]), 0);
		hts[i] = NULL;
	}
	mutex_unlock(&hat->lock);
	KUNIT_EXPECT_EQ(test, hat->ht_count, (unsigned int)HMENT_SPARSE / 2);
	hment_expect_found(test, hat, hts, HMENT_SPARSE);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_HTABLES),
			HMENT_SPARSE / 2);
	/* and come back */
	for (i = 0; i < HMENT_SPARSE; i += 2)
		hts[i] = hment_sparse_get(test, hat, i);
	hment_expect_found(test, hat, hts, HMENT_SPARSE);
}

/* The kernel's hat starts bigger: it has the most tables. */
static void hment_htable_hash_kernel_size(struct kunit *test)
{
	struct hment_fx *fx = test->priv;

	KUNIT_EXPECT_EQ(test, hment_hash_bits(fx->kernel),
			(unsigned int)HMENT_HT_HASH_BITS_KERNEL);
	KUNIT_EXPECT_EQ(test, hment_hash_bits(fx->user),
			(unsigned int)HMENT_HT_HASH_BITS);
}

/*
 * A range narrower than the hat's tables is looked up table by table, a
 * wider one goes through all of them: both remove exactly the range.
 */
static void hment_htable_forget_range_many(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *hts[40];
	unsigned long span = 1UL << hment_level_shift(0), va;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hts); i++) {
		/* 2M tables 1G apart: sparse */
		hts[i] = hment_fx_ht(test, fx->user, 200 + i * 512, 0);
		hment_fx_map_ok(test, hts[i], 0, PFN + 2 * i);
		hment_fx_map_ok(test, hts[i], 511, PFN + 2 * i + 1);
	}
	/* narrow: the last entry of table 3 */
	va = hts[3]->ht_va + span - PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, hment_hat_forget_range(fx->user, va, va + 1),
			1UL);
	KUNIT_EXPECT_EQ(test, hment_htable_shadow(hts[3], 511), HMENT_NO_PFN);
	KUNIT_EXPECT_EQ(test, hment_htable_shadow(hts[3], 0), PFN + 6);
	/* wide: from the second page of table 10 to the end of user space */
	KUNIT_EXPECT_EQ(test, hment_hat_forget_range(fx->user,
						     hts[10]->ht_va + PAGE_SIZE,
						     1UL << 47),
			2UL * (ARRAY_SIZE(hts) - 10) - 1);
	for (i = 0; i < ARRAY_SIZE(hts); i++) {
		KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, PFN + 2 * i),
				i <= 10 ? 1UL : 0UL);
		KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, PFN + 2 * i + 1),
				i < 10 && i != 3 ? 1UL : 0UL);
	}
}

struct hment_ht_reader {
	struct hment_hat *hat;
	struct hment_htable **hts;
	unsigned int n;
	unsigned long missed, lookups;
	bool stop;
};

static int hment_ht_reader_fn(void *data)
{
	struct hment_ht_reader *r = data;
	unsigned int i;

	while (!READ_ONCE(r->stop)) {
		for (i = 0; i < r->n; i++) {
			rcu_read_lock();
			if (hment_htable_lookup(r->hat, i % HMENT_LEVELS,
						hment_sparse_va(i)) != r->hts[i])
				WRITE_ONCE(r->missed, r->missed + 1);
			rcu_read_unlock();
		}
		WRITE_ONCE(r->lookups, r->lookups + r->n);
		cond_resched();
	}
	return 0;
}

/*
 * Lookups under RCU while the owner resizes the hash (a notifier during a
 * sync that grows it) still find every htable: a resize moves them one at
 * a time, and a reader led from the old table into a new chain must look
 * again. Seen failing with the retry taken out of hment_htable_lookup().
 */
static void hment_htable_lookup_during_resize(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_ht_reader r = { .hat = fx->user, .n = 48 };
	struct task_struct *task;
	unsigned int i;

	r.hts = kunit_kcalloc(test, r.n, sizeof(*r.hts), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r.hts);
	for (i = 0; i < r.n; i++)
		r.hts[i] = hment_sparse_get(test, r.hat, i);
	task = kthread_run(hment_ht_reader_fn, &r, "hment_ht_reader");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, task);
	for (i = 0; i < 4000 || READ_ONCE(r.lookups) < 100000; i++) {
		mutex_lock(&r.hat->lock);
		KUNIT_EXPECT_EQ(test, hment_htable_hash_resize(r.hat,
							       1 + i % 6), 0);
		mutex_unlock(&r.hat->lock);
		/* one CPU (UML): let the reader run */
		if (!(i % 256))
			schedule_timeout_uninterruptible(1);
		if (i > 1000000)
			break;
	}
	WRITE_ONCE(r.stop, true);
	kthread_stop(task);
	kunit_info(test, "%u resizes, %lu lookups, %lu missed\n", i,
		   r.lookups, r.missed);
	KUNIT_EXPECT_GE(test, r.lookups, 100000UL);
	KUNIT_EXPECT_EQ(test, r.missed, 0UL);
	mutex_lock(&r.hat->lock);
	KUNIT_EXPECT_EQ(test, hment_htable_hash_resize(r.hat, 0), -EINVAL);
	mutex_unlock(&r.hat->lock);
	hment_expect_found(test, r.hat, r.hts, r.n);
}

static struct kunit_case hment_htable_cases[] = {
	KUNIT_CASE(hment_htable_shadow_follows_index),
	KUNIT_CASE(hment_htable_entry_maps_one_pfn),
	KUNIT_CASE(hment_htable_unmap_entry_by_shadow),
	KUNIT_CASE(hment_htable_forget_range),
	KUNIT_CASE(hment_htable_replaced_table),
	KUNIT_CASE(hment_htable_put_only_when_empty),
	KUNIT_CASE(hment_htable_hat_destroy_empties),
	KUNIT_CASE(hment_htable_hash_grows),
	KUNIT_CASE(hment_htable_hash_kernel_size),
	KUNIT_CASE(hment_htable_forget_range_many),
	KUNIT_CASE(hment_htable_lookup_during_resize),
	{}
};

static struct kunit_suite hment_htable_suite = {
	.name = "hment_htable",
	.init = hment_fx_init,
	.exit = hment_fx_exit,
	.test_cases = hment_htable_cases,
};

kunit_test_suite(hment_htable_suite);
