// SPDX-License-Identifier: GPL-2.0
/*
 * Fixture shared by the hment KUnit suites; see hment_test.h.
 */
#include <linux/module.h>
#include <linux/slab.h>

#include "hment_test.h"

/**
 * hment_fx_params - the shape most cases use
 *
 * Return: a small index with the module's default lock counts.
 */
struct hment_params hment_fx_params(void)
{
	return (struct hment_params) {
		.max_pfn = HMENT_FX_MAX_PFN,
		.hash_buckets = 0,
		.mlist_locks = 256,
		.hash_locks = 256,
		.reserve_amount = 0,
	};
}

/**
 * hment_fx_create - give @test its own index of shape @p
 * @test: the case
 * @p: shape
 *
 * Return: the fixture, also in test->priv; the case fails if it cannot be
 * made.
 */
struct hment_fx *hment_fx_create(struct kunit *test,
				 const struct hment_params *p)
{
	struct hment_fx *fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fx);
	fx->idx = hment_index_create(p);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fx->idx);
	test->priv = fx;
	KUNIT_ASSERT_EQ(test, hment_hats_init(fx->idx), 0);
	fx->kernel = fx->idx->kernel_hat;
	fx->user = hment_hat_create(fx->idx, 100, false);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fx->user);
	return fx;
}

/**
 * hment_fx_init - suite init: an index of the default test shape
 * @test: the case
 *
 * Return: 0.
 */
int hment_fx_init(struct kunit *test)
{
	struct hment_params p = hment_fx_params();

	hment_fx_create(test, &p);
	return 0;
}

/**
 * hment_fx_verify - hment_verify() on the case's index, into a buffer
 * @test: the case
 * @quiet: as hment_verify()'s
 * @report: set to what it printed (a page, freed with the case)
 *
 * Return: the broken invariants it found.
 */
unsigned long hment_fx_verify(struct kunit *test, bool quiet, char **report)
{
	char *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct seq_buf s;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	seq_buf_init(&s, buf, PAGE_SIZE - 1);
	*report = buf;
	return hment_verify(hment_fx_idx(test), &s, quiet);
}

/**
 * hment_fx_expect_verified - fail @test unless every invariant holds
 * @test: the case; nobody else may be using its index
 */
void hment_fx_expect_verified(struct kunit *test)
{
	char *report;
	unsigned long errors = hment_fx_verify(test, true, &report);

	KUNIT_EXPECT_EQ_MSG(test, errors, 0UL, "%s", report);
}

/**
 * hment_fx_exit - suite exit: verify, then tear the index down
 * @test: the case
 */
void hment_fx_exit(struct kunit *test)
{
	struct hment_fx *fx = test->priv;

	if (!fx || IS_ERR_OR_NULL(fx->idx))
		return;
	hment_fx_expect_verified(test);
	hment_index_destroy(fx->idx);
	fx->idx = NULL;
}

/**
 * hment_fx_ht - an htable of @hat, created on first use
 * @test: the case
 * @hat: address space
 * @ptpfn: pfn of the (pretend) page-table page; also picks the address
 *	   range it maps, so that distinct ptpfns never overlap
 * @level: 0, 1 or 2
 *
 * Return: the htable; the case fails if it cannot be made.
 */
struct hment_htable *hment_fx_ht(struct kunit *test, struct hment_hat *hat,
				 unsigned long ptpfn, unsigned int level)
{
	unsigned long va = ptpfn << hment_level_shift(level);
	struct hment_htable *ht;

	/* as a sync does: the hat's owner makes its htables */
	mutex_lock(&hat->lock);
	ht = hment_htable_find_or_alloc(hat, level, va, ptpfn);
	mutex_unlock(&hat->lock);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ht);
	return ht;
}

/**
 * hment_fx_share - the share count of a pfn's record
 * @test: the case
 * @pfn: page
 *
 * Return: share, 0 if the pfn has no record.
 */
unsigned int hment_fx_share(struct kunit *test, unsigned long pfn)
{
	struct hment_page *pg = hment_page_find(hment_fx_idx(test), pfn);

	return pg ? hment_page_share(pg) : 0;
}

/**
 * hment_fx_embed_ht - the htable of a pfn's embedded mapping
 * @test: the case
 * @pfn: page, whose one mapping is embedded
 *
 * Return: the htable, NULL if the pfn has no record.
 */
struct hment_htable *hment_fx_embed_ht(struct kunit *test, unsigned long pfn)
{
	struct hment_page *pg = hment_page_find(hment_fx_idx(test), pfn);

	return pg ? hment_page_embed_ht(hment_fx_idx(test), pg) : NULL;
}

/**
 * hment_fx_embedded - is the pfn's one mapping embedded in its record?
 * @test: the case
 * @pfn: page
 *
 * Return: true if so.
 */
bool hment_fx_embedded(struct kunit *test, unsigned long pfn)
{
	struct hment_page *pg = hment_page_find(hment_fx_idx(test), pfn);

	return pg && hment_page_embedded(pg);
}

/**
 * hment_fx_hashed - is this listed mapping in the hash?
 * @test: the case
 * @ht: page-table page
 * @entry: entry
 * @pfn: page
 *
 * Return: true if hment_hash_find() finds it.
 */
bool hment_fx_hashed(struct kunit *test, struct hment_htable *ht,
		     unsigned int entry, unsigned long pfn)
{
	struct hment_index *idx = hment_fx_idx(test);
	struct hment *hm;

	hment_page_lock(idx, pfn);
	hm = hment_hash_find(idx, ht, entry, pfn);
	hment_page_unlock(idx, pfn);
	return hm;
}

/**
 * hment_fx_walk - collect the mappings of a pfn in hment_walk() order
 * @test: the case
 * @pfn: page
 * @hts: gets the htables
 * @entries: gets the entries
 * @max: room in both arrays
 *
 * Return: the number of mappings walked (may exceed @max; only @max kept).
 */
int hment_fx_walk(struct kunit *test, unsigned long pfn,
		  struct hment_htable **hts, unsigned int *entries, int max)
{
	struct hment_index *idx = hment_fx_idx(test);
	struct hment *hm = NULL;
	struct hment_htable *ht;
	unsigned int entry;
	int n = 0;

	hment_page_lock(idx, pfn);
	while ((hm = hment_walk(idx, pfn, &ht, &entry, hm))) {
		if (n < max) {
			hts[n] = ht;
			entries[n] = entry;
		}
		n++;
	}
	hment_page_unlock(idx, pfn);
	return n;
}

/**
 * hment_fx_stat - read one counter of the case's index
 * @test: the case
 * @item: counter
 *
 * Return: its value.
 */
long hment_fx_stat(struct kunit *test, enum hment_stat_item item)
{
	return hment_stat_read(hment_fx_idx(test), item);
}

static void hment_fx_run_hook(struct hment_index *idx, void *data)
{
	struct hment_fx_hook *hook = data;

	/* Once only: the hook's own mapping calls come back through here. */
	idx->unlocked_hook = NULL;
	hook->fired++;
	hook->result = hook->op(idx, hook->ht, hook->entry, hook->pfn);
}

/**
 * hment_fx_set_hook - run @hook the next time hment_prepare() drops its lock
 * @test: the case
 * @hook: what to do: another mapper's hment_map() or hment_unmap()
 */
void hment_fx_set_hook(struct kunit *test, struct hment_fx_hook *hook)
{
	struct hment_index *idx = hment_fx_idx(test);

	idx->unlocked_hook_data = hook;
	idx->unlocked_hook = hment_fx_run_hook;
}

/**
 * hment_fx_map_ok - map, failing the case unless the mapping is new
 * @test: the case
 * @ht: page-table page
 * @entry: entry
 * @pfn: page
 */
void hment_fx_map_ok(struct kunit *test, struct hment_htable *ht,
		     unsigned int entry, unsigned long pfn)
{
	KUNIT_ASSERT_EQ(test, hment_map(hment_fx_idx(test), ht, entry, pfn), 1);
}

MODULE_DESCRIPTION("KUnit suites for the hment index");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
