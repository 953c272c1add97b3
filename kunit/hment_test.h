/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared fixture of the hment KUnit suites: each case gets a fresh index of
 * its own (never the module's), a user address space and the kernel's, and
 * leaves through hment_fx_exit(), which fails the case unless the index
 * still verifies with every counter adding up.
 */
#ifndef _HMENT_TEST_H
#define _HMENT_TEST_H

#include <kunit/test.h>

#include "hment.h"
#include "internal.h"
#include "htable.h"
#include "hat.h"
#include "parse.h"

/* Small enough to build quickly, large enough for a 1G group. */
#define HMENT_FX_MAX_PFN	BIT(20)

struct hment_fx {
	struct hment_index *idx;
	struct hment_hat *user;
	struct hment_hat *kernel;
};

/* Hook run by hment_prepare() while it has the list lock dropped. */
struct hment_fx_hook {
	int (*op)(struct hment_index *idx, struct hment_htable *ht,
		  unsigned int entry, unsigned long pfn);
	struct hment_htable *ht;
	unsigned int entry;
	unsigned long pfn;
	int result;
	int fired;
};

struct hment_params hment_fx_params(void);
struct hment_fx *hment_fx_create(struct kunit *test,
				 const struct hment_params *p);
int hment_fx_init(struct kunit *test);
void hment_fx_exit(struct kunit *test);
unsigned long hment_fx_verify(struct kunit *test, bool quiet, char **report);
void hment_fx_expect_verified(struct kunit *test);
struct hment_htable *hment_fx_ht(struct kunit *test, struct hment_hat *hat,
				 unsigned long ptpfn, unsigned int level);
unsigned int hment_fx_share(struct kunit *test, unsigned long pfn);
bool hment_fx_embedded(struct kunit *test, unsigned long pfn);
struct hment_htable *hment_fx_embed_ht(struct kunit *test, unsigned long pfn);
bool hment_fx_hashed(struct kunit *test, struct hment_htable *ht,
		     unsigned int entry, unsigned long pfn);
int hment_fx_walk(struct kunit *test, unsigned long pfn,
		  struct hment_htable **hts, unsigned int *entries, int max);
long hment_fx_stat(struct kunit *test, enum hment_stat_item item);
void hment_fx_set_hook(struct kunit *test, struct hment_fx_hook *hook);
void hment_fx_map_ok(struct kunit *test, struct hment_htable *ht,
		     unsigned int entry, unsigned long pfn);

static inline struct hment_index *hment_fx_idx(struct kunit *test)
{
	return ((struct hment_fx *)test->priv)->idx;
}

#endif /* _HMENT_TEST_H */
