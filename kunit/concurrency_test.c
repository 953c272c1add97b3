// SPDX-License-Identifier: GPL-2.0
/*
 * hment_concurrency: one kthread per CPU maps and unmaps pages, some shared
 * by all threads and some private, for a bounded time. Each thread owns its
 * page table, so it knows what every call must return; afterwards the index
 * must verify and hold exactly what the threads say they left mapped.
 */
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/prandom.h>
#include <linux/slab.h>

#include "hment_test.h"

#define RUN_MS		1000
#define SHARED_PFNS	8
#define SHARED_BASE	4096UL
#define PRIVATE_BASE	(8 * HMENT_CHUNK_PFNS)

struct hment_worker {
	struct hment_index *idx;
	struct hment_htable *ht;
	struct task_struct *task;
	struct rnd_state rnd;
	unsigned long base;
	unsigned long ops, wrong;
	DECLARE_BITMAP(mapped, HMENT_ENTRIES);
};

/* Entries in the low half map shared pages, the rest private ones. */
static unsigned long hment_worker_pfn(struct hment_worker *w,
				      unsigned int entry)
{
	if (entry < HMENT_ENTRIES / 2)
		return SHARED_BASE + entry % SHARED_PFNS;
	return w->base + entry;
}

static int hment_worker_fn(void *data)
{
	struct hment_worker *w = data;
	unsigned int entry;
	unsigned long pfn;
	int ret;

	while (!kthread_should_stop()) {
		entry = prandom_u32_state(&w->rnd) % HMENT_ENTRIES;
		pfn = hment_worker_pfn(w, entry);
		if (test_bit(entry, w->mapped)) {
			ret = hment_unmap(w->idx, w->ht, entry, pfn);
			w->wrong += ret != 0;
			__clear_bit(entry, w->mapped);
		} else {
			ret = hment_map(w->idx, w->ht, entry, pfn);
			w->wrong += ret != 1;
			__set_bit(entry, w->mapped);
		}
		WRITE_ONCE(w->ops, w->ops + 1);
		if (!(w->ops % 64))
			cond_resched();
	}
	return 0;
}

struct hment_lock_shape {
	const char *name;
	unsigned int mlist_locks, hash_locks, buckets;
};

static const struct hment_lock_shape hment_lock_shapes[] = {
	{ "striped", 256, 256, 1024 },
	{ "one_lock_each", 1, 1, 64 },
	/* a growing hash, resized back and forth under the threads too */
	{ "resizing", 256, 256, 0 },
};

static void hment_lock_shape_desc(const struct hment_lock_shape *s, char *desc)
{
	strscpy(desc, s->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(hment_lock_shape, hment_lock_shapes, hment_lock_shape_desc);

static struct hment_worker *hment_workers_start(struct kunit *test, int n)
{
	struct hment_index *idx = hment_fx_idx(test);
	struct hment_worker *w;
	struct hment_hat *hat;
	int i;

	w = kunit_kcalloc(test, n, sizeof(*w), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	for (i = 0; i < n; i++) {
		hat = hment_hat_create(idx, 2000 + i, false);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, hat);
		w[i].idx = idx;
		w[i].ht = hment_fx_ht(test, hat, 60000 + i, 0);
		w[i].base = PRIVATE_BASE + i * HMENT_ENTRIES;
		prandom_seed_state(&w[i].rnd, 0x686d656e74ULL + i);
	}
	for (i = 0; i < n; i++) {
		w[i].task = kthread_create(hment_worker_fn, &w[i],
					   "hment_test/%d", i);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, w[i].task);
		kthread_bind(w[i].task, i % num_online_cpus());
	}
	for (i = 0; i < n; i++)
		wake_up_process(w[i].task);
	return w;
}

/* How many threads left @pfn mapped, by their own account. */
static unsigned long hment_workers_mapping(struct hment_worker *w, int n,
					   unsigned long pfn)
{
	unsigned long cnt = 0;
	unsigned int entry;
	int i;

	for (i = 0; i < n; i++)
		for_each_set_bit(entry, w[i].mapped, HMENT_ENTRIES)
			cnt += hment_worker_pfn(&w[i], entry) == pfn;
	return cnt;
}

struct hment_resizer {
	struct hment_index *idx;
	unsigned int resizes;
	int err;
};

/*
 * Resize through sizes large enough that a stripe moves in several lock
 * holds, so that the threads meet stripes part way through.
 */
static int hment_resizer_fn(void *data)
{
	static const unsigned int sizes[] = { 32768, 256, 1024, 65536, 512 };
	struct hment_resizer *r = data;
	int err;

	while (!kthread_should_stop()) {
		err = hment_hash_resize(r->idx,
					sizes[r->resizes % ARRAY_SIZE(sizes)]);
		if (err && !r->err)
			r->err = err;
		r->resizes++;
		cond_resched();
	}
	return 0;
}

/*
 * Each worker is bound to a CPU, and on a loaded host a virtual CPU can
 * stall for the whole of RUN_MS: the run goes on (a bounded while) until
 * every worker has mapped something, so that they really overlap.
 */
static bool hment_workers_all_ran(struct hment_worker *w, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (READ_ONCE(w[i].ops) < 64)
			return false;
	return true;
}

static bool hment_run_on(struct hment_worker *w, int n,
			 unsigned long deadline)
{
	if (time_before(jiffies, deadline))
		return true;
	return !hment_workers_all_ran(w, n) &&
	       time_before(jiffies, deadline + 10 * HZ);
}

static void hment_concurrency_map_unmap(struct kunit *test)
{
	const struct hment_lock_shape *s = test->param_value;
	struct hment_params p = hment_fx_params();
	int i, n = max_t(int, num_online_cpus(), 2);
	unsigned long pfn, total = 0, misses = 0, violations = 0;
	char *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct hment_resizer r = { };
	struct task_struct *resizer = NULL;
	unsigned long deadline;
	struct hment_worker *w;
	struct seq_buf s_buf;

	p.mlist_locks = s->mlist_locks;
	p.hash_locks = s->hash_locks;
	p.hash_buckets = s->buckets;
	p.reserve_amount = 16;
	hment_fx_create(test, &p);
	r.idx = hment_fx_idx(test);
	KUNIT_ASSERT_NOT_NULL(test, buf);

	deadline = jiffies + msecs_to_jiffies(RUN_MS);
	w = hment_workers_start(test, n);
	if (!s->buckets) {
		resizer = kthread_run(hment_resizer_fn, &r, "hment_test/resize");
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, resizer);
	}
	/*
	 * The invariants hold even while the threads run. A verify holds off
	 * resizes and mappers alike: with a resizer, verify less often.
	 */
	for (i = 0; hment_run_on(w, n, deadline); i++) {
		seq_buf_init(&s_buf, buf, PAGE_SIZE - 1);
		if (s->buckets || !(i % 5))
			violations += hment_verify(hment_fx_idx(test), &s_buf,
						   false);
		msleep(RUN_MS / 20);
	}
	if (!s->buckets) {
		kthread_stop(resizer);
		KUNIT_EXPECT_EQ(test, r.err, 0);
		KUNIT_EXPECT_GT(test, r.resizes, 0U);
		kunit_info(test, "%u resizes under the threads\n", r.resizes);
	}
	for (i = 0; i < n; i++)
		kthread_stop(w[i].task);
	KUNIT_EXPECT_EQ_MSG(test, violations, 0UL, "%s", buf);

	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_GT(test, w[i].ops, 0UL);
		KUNIT_EXPECT_EQ(test, w[i].wrong, 0UL);
		total += bitmap_weight(w[i].mapped, HMENT_ENTRIES);
		kunit_info(test, "thread %d: %lu operations\n", i, w[i].ops);
	}
	KUNIT_EXPECT_EQ(test, hment_fx_stat(test, HMENT_STAT_MAPPINGS),
			(long)total);
	for (pfn = SHARED_BASE; pfn < SHARED_BASE + SHARED_PFNS; pfn++)
		misses += hment_mapcnt(hment_fx_idx(test), pfn) !=
			  hment_workers_mapping(w, n, pfn);
	for (i = 0; i < n; i++)
		for (pfn = w[i].base + HMENT_ENTRIES / 2;
		     pfn < w[i].base + HMENT_ENTRIES; pfn++)
			misses += hment_mapcnt(hment_fx_idx(test), pfn) !=
				  hment_workers_mapping(w, n, pfn);
	KUNIT_EXPECT_EQ(test, misses, 0UL);
	hment_fx_expect_verified(test);
}

static struct kunit_case hment_concurrency_cases[] = {
	KUNIT_CASE_PARAM(hment_concurrency_map_unmap,
			 hment_lock_shape_gen_params),
	{}
};

static struct kunit_suite hment_concurrency_suite = {
	.name = "hment_concurrency",
	.exit = hment_fx_exit,
	.test_cases = hment_concurrency_cases,
};

kunit_test_suite(hment_concurrency_suite);
