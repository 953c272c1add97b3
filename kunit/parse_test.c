// SPDX-License-Identifier: GPL-2.0
/*
 * hment_parse: what users may write to debugfs, and the errno for what
 * they may not. Strings arrive stripped of surrounding white space and
 * NUL-terminated (an embedded NUL is refused before parsing).
 */
#include "hment_test.h"

#define MAX_PFN	1000UL

struct hment_pfn_case {
	const char *in;
	int err;
	unsigned long pfn;
};

static const struct hment_pfn_case hment_pfn_cases[] = {
	{ "0", 0, 0 },
	{ "999", 0, 999 },
	{ "0x10", 0, 16 },
	{ "010", 0, 8 },		/* kstrto* base 0: octal, as strtoul */
	{ "1000", -ERANGE, 0 },		/* the last pfn is 999 */
	{ "99999999999999999999999", -ERANGE, 0 },
	{ "", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ "+1", -EINVAL, 0 },
	{ "12x", -EINVAL, 0 },
	{ "1 2", -EINVAL, 0 },
	{ "0x", -EINVAL, 0 },
	{ "pfn", -EINVAL, 0 },
};

static void hment_pfn_case_desc(const struct hment_pfn_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "\"%s\"", c->in);
}

KUNIT_ARRAY_PARAM(hment_pfn, hment_pfn_cases, hment_pfn_case_desc);

static void hment_parse_pfn_cases(struct kunit *test)
{
	const struct hment_pfn_case *c = test->param_value;
	unsigned long pfn = 12345;

	KUNIT_EXPECT_EQ(test, hment_parse_pfn(c->in, MAX_PFN, &pfn), c->err);
	/* a refused write leaves the output alone */
	KUNIT_EXPECT_EQ(test, pfn, c->err ? 12345UL : c->pfn);
}

struct hment_track_case {
	const char *in;
	int err;
	enum hment_track_op op;
	pid_t pid;
};

static const struct hment_track_case hment_track_cases[] = {
	{ "all", 0, HMENT_TRACK_ALL, 0 },
	{ "-all", 0, HMENT_UNTRACK_ALL, 0 },
	{ "kernel", -EINVAL },	/* the kernel's tables are not walked */
	{ "-kernel", -EINVAL },
	{ "42", 0, HMENT_TRACK_PID, 42 },
	{ "-42", 0, HMENT_UNTRACK_PID, 42 },
	{ "2147483647", 0, HMENT_TRACK_PID, 2147483647 },
	{ "2147483648", -ERANGE },
	{ "-2147483648", -ERANGE },
	{ "0", -EINVAL },
	{ "-0", -EINVAL },
	{ "--42", -EINVAL },
	{ "+42", -EINVAL },
	{ "0x2a", -EINVAL },
	{ "42 43", -EINVAL },
	{ "42x", -EINVAL },
	{ "", -EINVAL },
	{ "-", -EINVAL },
	{ "All", -EINVAL },
	{ "kernel2", -EINVAL },
};

static void hment_track_case_desc(const struct hment_track_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "\"%s\"", c->in);
}

KUNIT_ARRAY_PARAM(hment_track, hment_track_cases, hment_track_case_desc);

static void hment_parse_track_cases(struct kunit *test)
{
	const struct hment_track_case *c = test->param_value;
	struct hment_track_cmd cmd = {};

	KUNIT_ASSERT_EQ(test, hment_parse_track(c->in, &cmd), c->err);
	if (c->err)
		return;
	KUNIT_EXPECT_EQ(test, cmd.op, c->op);
	KUNIT_EXPECT_EQ(test, cmd.pid, c->pid);
}

struct hment_sync_case {
	const char *in;
	int err;
	pid_t pid;
};

static const struct hment_sync_case hment_sync_cases[] = {
	{ "1", 0, 0 },
	{ "pid 7", 0, 7 },
	{ "pid 0", -EINVAL },
	{ "pid -7", -EINVAL },
	{ "pid", -EINVAL },
	{ "pid 99999999999", -ERANGE },
	{ "0", -EINVAL },
	{ "2", -EINVAL },
	{ "11", -EINVAL },
	{ "", -EINVAL },
	{ "yes", -EINVAL },
};

static void hment_sync_case_desc(const struct hment_sync_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "\"%s\"", c->in);
}

KUNIT_ARRAY_PARAM(hment_sync, hment_sync_cases, hment_sync_case_desc);

static void hment_parse_sync_cases(struct kunit *test)
{
	const struct hment_sync_case *c = test->param_value;
	pid_t pid = -1;

	KUNIT_ASSERT_EQ(test, hment_parse_sync(c->in, &pid), c->err);
	if (!c->err)
		KUNIT_EXPECT_EQ(test, pid, c->pid);
}

static struct kunit_case hment_parse_cases[] = {
	KUNIT_CASE_PARAM(hment_parse_pfn_cases, hment_pfn_gen_params),
	KUNIT_CASE_PARAM(hment_parse_track_cases, hment_track_gen_params),
	KUNIT_CASE_PARAM(hment_parse_sync_cases, hment_sync_gen_params),
	{}
};

static struct kunit_suite hment_parse_suite = {
	.name = "hment_parse",
	.test_cases = hment_parse_cases,
};

kunit_test_suite(hment_parse_suite);
