// SPDX-License-Identifier: GPL-2.0
/*
 * hment_verify: the invariant check runs in a sane context whatever the
 * number of mapping-list locks: never with more than a lock or two held
 * (so preempt_count's preempt field cannot overflow into the softirq,
 * hardirq or NMI bits), and preemptible between the records it checks.
 * It also runs while mappers and notifiers change the index.
 */
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/prandom.h>
#include <linux/preempt.h>

#include "hment_test.h"

/* What the verify hook saw; one verify runs at a time. */
static struct hment_verify_seen {
	unsigned long locked, unlocked;	/* calls of each kind */
	unsigned long bad_context;	/* in_interrupt(), NMI, irqs off */
	unsigned long bad_count;	/* preempt_count() not as expected */
	unsigned int max_count;
} hment_seen;

static void hment_verify_context_hook(struct hment_index *idx, bool locked)
{
	unsigned int pc = preempt_count();

	if (locked)
		hment_seen.locked++;
	else
		hment_seen.unlocked++;
	hment_seen.max_count = max(hment_seen.max_count, pc);
	if (in_interrupt() || in_nmi() || irqs_disabled())
		hment_seen.bad_context++;
	/* one list lock, perhaps an RCU read section; nothing else */
	if (pc & ~PREEMPT_MASK || (pc & PREEMPT_MASK) > 2)
		hment_seen.bad_count++;
	/* between records: free to be preempted */
	if (!locked && IS_ENABLED(CONFIG_PREEMPT_COUNT) && pc)
		hment_seen.bad_count++;
}

static void hment_verify_context_expect(struct kunit *test)
{
	KUNIT_EXPECT_GT(test, hment_seen.locked, 0UL);
	KUNIT_EXPECT_GT(test, hment_seen.unlocked, 0UL);
	KUNIT_EXPECT_EQ_MSG(test, hment_seen.bad_context, 0UL,
			    "max preempt_count %#x", hment_seen.max_count);
	KUNIT_EXPECT_EQ_MSG(test, hment_seen.bad_count, 0UL,
			    "max preempt_count %#x", hment_seen.max_count);
}

static const unsigned int hment_verify_lock_counts[] = { 256, 512, 65536 };

static void hment_verify_locks_desc(const unsigned int *n, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "mlist_locks=%u", *n);
}

KUNIT_ARRAY_PARAM(hment_verify_locks, hment_verify_lock_counts,
		  hment_verify_locks_desc);

static struct hment_fx *hment_verify_fx(struct kunit *test)
{
	struct hment_params p = hment_fx_params();

	p.mlist_locks = *(const unsigned int *)test->param_value;
	memset(&hment_seen, 0, sizeof(hment_seen));
	return hment_fx_create(test, &p);
}

static unsigned long hment_verify_run(struct kunit *test, bool quiet)
{
	char *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct hment_index *idx = hment_fx_idx(test);
	unsigned long errors;
	struct seq_buf s;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	seq_buf_init(&s, buf, PAGE_SIZE - 1);
	idx->verify_hook = hment_verify_context_hook;
	errors = hment_verify(idx, &s, quiet);
	idx->verify_hook = NULL;
	KUNIT_EXPECT_EQ_MSG(test, errors, 0UL, "%s", buf);
	return errors;
}

static void hment_verify_context(struct kunit *test)
{
	struct hment_fx *fx = hment_verify_fx(test);
	struct hment_htable *a = hment_fx_ht(test, fx->user, 10, 0);
	struct hment_htable *b = hment_fx_ht(test, fx->user, 11, 0);
	unsigned int e;

	/* embedded and listed records in a few chunks */
	for (e = 0; e < 64; e++) {
		hment_fx_map_ok(test, a, e, e * 700);
		if (e % 2)
			hment_fx_map_ok(test, b, e, e * 700);
	}
	hment_verify_run(test, true);
	hment_verify_context_expect(test);
	kunit_info(test, "%lu records checked, max preempt_count %#x\n",
		   hment_seen.locked, hment_seen.max_count);
}

/*
 * Verify while kthreads map, unmap and forget ranges as the notifier does,
 * each in its own hat and page table, on pages some of which they share.
 */
#define LIVE_MS		1000
#define LIVE_SHARED	8
#define LIVE_SHARED_BASE 4096UL
#define LIVE_BASE	(8 * HMENT_CHUNK_PFNS)

struct hment_live {
	struct hment_index *idx;
	struct hment_hat *hat;
	struct hment_htable *ht;
	struct task_struct *task;
	struct rnd_state rnd;
	unsigned long base, ops, wrong, forgets;
	u64 max_ns;			/* longest single map or unmap */
	DECLARE_BITMAP(mapped, HMENT_ENTRIES);
};

static unsigned long hment_live_pfn(struct hment_live *w, unsigned int entry)
{
	if (entry < HMENT_ENTRIES / 2)
		return LIVE_SHARED_BASE + entry % LIVE_SHARED;
	return w->base + entry;
}

static int hment_live_fn(void *data)
{
	struct hment_live *w = data;
	unsigned int entry;
	u64 t0, dt;
	int ret;

	while (!kthread_should_stop()) {
		entry = prandom_u32_state(&w->rnd) % HMENT_ENTRIES;
		t0 = ktime_get_ns();
		if (!(prandom_u32_state(&w->rnd) % 64)) {
			/* a notifier's invalidation of 16 entries */
			entry = round_down(entry, 16);
			hment_hat_forget_range(w->hat, w->ht->ht_va +
					       entry * PAGE_SIZE,
					       w->ht->ht_va +
					       (entry + 16) * PAGE_SIZE);
			bitmap_clear(w->mapped, entry, 16);
			w->forgets++;
		} else if (test_bit(entry, w->mapped)) {
			ret = hment_unmap(w->idx, w->ht, entry,
					  hment_live_pfn(w, entry));
			w->wrong += ret != 0;
			__clear_bit(entry, w->mapped);
		} else {
			ret = hment_map(w->idx, w->ht, entry,
					hment_live_pfn(w, entry));
			w->wrong += ret != 1;
			__set_bit(entry, w->mapped);
		}
		dt = ktime_get_ns() - t0;
		w->max_ns = max(w->max_ns, dt);
		if (!(++w->ops % 64))
			cond_resched();
	}
	return 0;
}

static void hment_verify_live(struct kunit *test)
{
	int i, n = max_t(int, num_online_cpus(), 2);
	unsigned long deadline, runs = 0;
	struct hment_live *w;
	struct hment_fx *fx;

	fx = hment_verify_fx(test);
	w = kunit_kcalloc(test, n, sizeof(*w), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	for (i = 0; i < n; i++) {
		w[i].idx = fx->idx;
		w[i].hat = hment_hat_create(fx->idx, 3000 + i, false);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, w[i].hat);
		w[i].ht = hment_fx_ht(test, w[i].hat, 50000 + i, 0);
		w[i].base = LIVE_BASE + i * HMENT_ENTRIES;
		prandom_seed_state(&w[i].rnd, 0x766572696679ULL + i);
		w[i].task = kthread_create(hment_live_fn, &w[i],
					   "hment_live/%d", i);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, w[i].task);
		kthread_bind(w[i].task, i % num_online_cpus());
	}
	for (i = 0; i < n; i++)
		wake_up_process(w[i].task);

	deadline = jiffies + msecs_to_jiffies(LIVE_MS);
	while (time_before(jiffies, deadline)) {
		hment_verify_run(test, false);
		runs++;
		msleep(LIVE_MS / 50);
	}
	for (i = 0; i < n; i++)
		kthread_stop(w[i].task);

	hment_verify_context_expect(test);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_GT(test, w[i].ops, 0UL);
		KUNIT_EXPECT_GT(test, w[i].forgets, 0UL);
		KUNIT_EXPECT_EQ(test, w[i].wrong, 0UL);
		kunit_info(test, "thread %d: %lu ops, longest %llu us\n", i,
			   w[i].ops, w[i].max_ns / NSEC_PER_USEC);
	}
	kunit_info(test, "%lu verifies, max preempt_count %#x\n", runs,
		   hment_seen.max_count);
}

/*
 * Each invariant of the 32-bit ids, broken on purpose in one place: verify
 * must report it (following no id it has not checked), and be clean again
 * once it is mended.
 */
enum hment_breakage {
	HMENT_BREAK_BACK_LINK,		/* a list's prev link */
	HMENT_BREAK_LIST_ID,		/* a list's next id: no such chunk */
	HMENT_BREAK_FREE_SLOT,		/* a list's next id: a free slot */
	HMENT_BREAK_HASH_ID,		/* a hash chain's next id */
	HMENT_BREAK_HTABLE_ID,		/* an hment's htable id */
	HMENT_BREAK_EMBED_ID,		/* an embedded mapping's htable id */
	HMENT_BREAK_CHUNK_FREE,		/* a chunk's free count */
};

static const struct hment_break_case {
	const char *name;
	enum hment_breakage what;
} hment_break_cases[] = {
	{ "back_link", HMENT_BREAK_BACK_LINK },
	{ "list_id", HMENT_BREAK_LIST_ID },
	{ "free_slot", HMENT_BREAK_FREE_SLOT },
	{ "hash_id", HMENT_BREAK_HASH_ID },
	{ "htable_id", HMENT_BREAK_HTABLE_ID },
	{ "embed_id", HMENT_BREAK_EMBED_ID },
	{ "chunk_free", HMENT_BREAK_CHUNK_FREE },
};

static void hment_break_desc(const struct hment_break_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(hment_break, hment_break_cases, hment_break_desc);

#define BREAK_PFN	3000UL

static unsigned long hment_verify_errors(struct kunit *test, bool quiet)
{
	char *report;
	unsigned long errors = hment_fx_verify(test, quiet, &report);

	kunit_info(test, "%lu errors: %s", errors, report);
	return errors;
}

static void hment_verify_catches(struct kunit *test)
{
	const struct hment_break_case *c = test->param_value;
	struct hment_fx *fx;
	struct hment_htable *ht[3];
	struct hment_page *pg, *alone;
	struct hment *first, *second, *spare;
	u32 *word, saved;
	unsigned int i;
	u8 *nfree;

	KUNIT_ASSERT_EQ(test, hment_fx_init(test), 0);
	fx = test->priv;
	for (i = 0; i < ARRAY_SIZE(ht); i++) {
		ht[i] = hment_fx_ht(test, fx->user, 20 + i, 0);
		hment_fx_map_ok(test, ht[i], 7, BREAK_PFN);
	}
	hment_fx_map_ok(test, ht[0], 8, BREAK_PFN + 1);
	alone = hment_page_find(fx->idx, BREAK_PFN + 1);
	KUNIT_ASSERT_NOT_NULL(test, alone);
	KUNIT_ASSERT_TRUE(test, hment_page_embedded(alone));
	pg = hment_page_find(fx->idx, BREAK_PFN);
	KUNIT_ASSERT_NOT_NULL(test, pg);
	KUNIT_ASSERT_EQ(test, hment_page_share(pg), 3U);
	first = hment_ptr(fx->idx, pg->head);
	second = hment_ptr(fx->idx, first->hm_next);
	KUNIT_ASSERT_NOT_NULL(test, second);
	/* a slot taken and given back: free, in a live chunk */
	spare = hment_alloc(fx->idx);
	KUNIT_ASSERT_NOT_NULL(test, spare);
	saved = hment_id(spare);
	KUNIT_ASSERT_EQ(test, saved >> HMENT_HCHUNK_SHIFT,
			hment_id(first) >> HMENT_HCHUNK_SHIFT);
	fx->idx->reserve_amount = 0;
	hment_adjust_reserve(fx->idx);
	hment_free(fx->idx, spare);
	KUNIT_ASSERT_EQ(test, hment_verify_errors(test, true), 0UL);

	switch (c->what) {
	case HMENT_BREAK_BACK_LINK:
		word = &second->hm_prev;
		break;
	case HMENT_BREAK_LIST_ID:
		word = &first->hm_next;
		saved = U32_MAX;
		break;
	case HMENT_BREAK_FREE_SLOT:
		word = &first->hm_next;
		break;
	case HMENT_BREAK_HASH_ID:
		/* a chain's end, made to go on */
		word = &second->hm_hashnext;
		saved = second->hm_hashnext ? U32_MAX : hment_id(first);
		break;
	case HMENT_BREAK_HTABLE_ID:
		word = &second->hm_ht_entry;
		saved = HMENT_HTID_MAX << HMENT_LEVEL_SHIFT | 7;
		break;
	case HMENT_BREAK_EMBED_ID:
		word = &alone->head;
		saved = HMENT_HTID_MAX << HMENT_LEVEL_SHIFT | 8;
		break;
	case HMENT_BREAK_CHUNK_FREE:
		nfree = &((struct hment_chunk *)((unsigned long)first &
						 ~(HMENT_HCHUNK_BYTES - 1)))->nfree;
		(*nfree)--;
		KUNIT_EXPECT_GT(test, hment_verify_errors(test, true), 0UL);
		(*nfree)++;
		KUNIT_EXPECT_EQ(test, hment_verify_errors(test, true), 0UL);
		return;
	}
	swap(*word, saved);
	KUNIT_EXPECT_GT(test, hment_verify_errors(test, false), 0UL);
	swap(*word, saved);
	KUNIT_EXPECT_EQ(test, hment_verify_errors(test, true), 0UL);
}

static struct kunit_case hment_verify_cases[] = {
	KUNIT_CASE_PARAM(hment_verify_context, hment_verify_locks_gen_params),
	KUNIT_CASE_PARAM(hment_verify_live, hment_verify_locks_gen_params),
	KUNIT_CASE_PARAM(hment_verify_catches, hment_break_gen_params),
	{}
};

static struct kunit_suite hment_verify_suite = {
	.name = "hment_verify",
	.exit = hment_fx_exit,
	.test_cases = hment_verify_cases,
};

kunit_test_suite(hment_verify_suite);
