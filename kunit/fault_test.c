// SPDX-License-Identifier: GPL-2.0
/*
 * hment_fault: allocation failures injected by count, by frequency and by
 * site. Every allocation the index makes can fail; each failure is an
 * error return that leaves nothing half-built and nothing leaked.
 */
#include "hment_test.h"

static void hment_fault_create_fails_cleanly(struct kunit *test)
{
	struct hment_params p = hment_fx_params();
	struct hment_index *idx;
	unsigned int nth;
	int err;

	/* fail the first allocation, then the second, ... until none is left */
	for (nth = 1; nth < 64; nth++) {
		p.fail_nth = nth;
		idx = hment_index_create(&p);
		err = PTR_ERR_OR_ZERO(idx);
		if (!err) {
			err = hment_hats_init(idx);
			if (!err)
				break;
			hment_index_destroy(idx);
			idx = ERR_PTR(err);
		}
		KUNIT_EXPECT_EQ(test, err, -ENOMEM);
	}
	KUNIT_ASSERT_FALSE(test, IS_ERR(idx));
	/* the hash, the locks, the records and the kernel hat at least */
	KUNIT_EXPECT_GE(test, nth, 5U);
	KUNIT_EXPECT_EQ(test, hment_stat_read(idx, HMENT_STAT_HATS), 1L);
	hment_index_destroy(idx);
}

static void hment_fault_only_chosen_sites(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *ht;
	struct hment_hat *hat;
	struct hment *hm;

	atomic_set(&fx->idx->fault.sites, BIT(HMENT_FAULT_HTABLE));
	atomic_set(&fx->idx->fault.every, 1);

	hm = hment_alloc(fx->idx);
	KUNIT_EXPECT_NOT_NULL(test, hm);
	if (hm)
		hment_free(fx->idx, hm);
	hat = hment_hat_create(fx->idx, 500, false);
	KUNIT_EXPECT_FALSE(test, IS_ERR(hat));
	mutex_lock(&fx->user->lock);
	ht = hment_htable_find_or_alloc(fx->user, 0, 0, 77);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(ht), (long)-ENOMEM);
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_FAULT_INJECTED), 1);

	atomic_set(&fx->idx->fault.every, 0);
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test, hment_htable_find_or_alloc(fx->user, 0, 0, 77));
	mutex_unlock(&fx->user->lock);
}

static void hment_fault_records_then_recover(struct kunit *test)
{
	struct hment_fx *fx = test->priv;
	struct hment_htable *ht = hment_fx_ht(test, fx->user, 10, 0);
	const unsigned long far = 100 * HMENT_CHUNK_PFNS;

	hment_fx_map_ok(test, ht, 1, 7);
	atomic_set(&fx->idx->fault.sites, BIT(HMENT_FAULT_RECORDS));
	atomic_set(&fx->idx->fault.every, 1);

	/* a pfn in a chunk not yet allocated fails; one in an old chunk not */
	KUNIT_EXPECT_EQ(test, hment_map(fx->idx, ht, 2, far), -ENOMEM);
	KUNIT_EXPECT_TRUE(test, test_bit(HMENT_HT_STALE, &ht->ht_flags));
	KUNIT_EXPECT_NULL(test, hment_page_find(fx->idx, far));
	hment_fx_map_ok(test, ht, 3, 8);

	atomic_set(&fx->idx->fault.every, 0);
	hment_fx_map_ok(test, ht, 2, far);
	KUNIT_EXPECT_EQ(test, hment_mapcnt(fx->idx, far), 1UL);
}

static struct kunit_case hment_fault_cases[] = {
	KUNIT_CASE(hment_fault_create_fails_cleanly),
	KUNIT_CASE(hment_fault_only_chosen_sites),
	KUNIT_CASE(hment_fault_records_then_recover),
	{}
};

static struct kunit_suite hment_fault_suite = {
	.name = "hment_fault",
	.init = hment_fx_init,
	.exit = hment_fx_exit,
	.test_cases = hment_fault_cases,
};

kunit_test_suite(hment_fault_suite);
