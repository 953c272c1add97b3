// SPDX-License-Identifier: GPL-2.0
/*
 * hment_bounds: every shape and knob has a bound tied to the machine, and
 * an index asked for more is refused with -ERANGE instead of trying; a long
 * fill of the reserve stops when its caller is being killed.
 */
#include <linux/sched/signal.h>
#include <linux/signal.h>

#include "hment_test.h"

struct hment_bound_case {
	const char *name;
	size_t field;		/* offset of an unsigned int in hment_params */
	unsigned int val;
};

#define BOUND_CASE(n, f, v) \
	{ .name = n, .field = offsetof(struct hment_params, f), .val = v }

static const struct hment_bound_case hment_bound_cases[] = {
	BOUND_CASE("reserve_amount=INT_MAX", reserve_amount, INT_MAX),
	BOUND_CASE("reserve_amount=UINT_MAX", reserve_amount, UINT_MAX),
	BOUND_CASE("mlist_locks=2^17", mlist_locks, 1U << 17),
	BOUND_CASE("mlist_locks=2^31", mlist_locks, 1U << 31),
	BOUND_CASE("hash_locks=2^17", hash_locks, 1U << 17),
	BOUND_CASE("hash_buckets=2^30", hash_buckets, 1U << 30),
	BOUND_CASE("fail_nth=2^31", fail_nth, 1U << 31),
	BOUND_CASE("fail_every=UINT_MAX", fail_every, UINT_MAX),
	BOUND_CASE("fail_sites=64", fail_sites, 64),
};

static void hment_bound_desc(const struct hment_bound_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(hment_bound, hment_bound_cases, hment_bound_desc);

static void hment_bounds_refused(struct kunit *test)
{
	const struct hment_bound_case *c = test->param_value;
	struct hment_params p = hment_fx_params();
	struct hment_index *idx;

	*(unsigned int *)((char *)&p + c->field) = c->val;
	idx = hment_index_create(&p);

	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(idx), -ERANGE);
	if (!IS_ERR(idx))
		hment_index_destroy(idx);
}

#define KILL_FILL	100000U

static void hment_bounds_reserve_stops_on_kill(struct kunit *test)
{
	struct hment_index *idx = hment_fx_idx(test);
	unsigned int filled;

	/* a kthread takes signals only when it asks for them */
	allow_signal(SIGKILL);
	send_sig(SIGKILL, current, 1);
	KUNIT_ASSERT_TRUE(test, fatal_signal_pending(current));
	hment_reserve(idx, KILL_FILL);
	flush_signals(current);
	disallow_signal(SIGKILL);

	filled = READ_ONCE(idx->reserve_count);
	KUNIT_EXPECT_LT(test, filled, KILL_FILL);
	hment_adjust_reserve(idx);
}

static struct kunit_case hment_bounds_cases[] = {
	KUNIT_CASE_PARAM(hment_bounds_refused, hment_bound_gen_params),
	KUNIT_CASE(hment_bounds_reserve_stops_on_kill),
	{}
};

static struct kunit_suite hment_bounds_suite = {
	.name = "hment_bounds",
	.init = hment_fx_init,
	.exit = hment_fx_exit,
	.test_cases = hment_bounds_cases,
};

kunit_test_suite(hment_bounds_suite);
