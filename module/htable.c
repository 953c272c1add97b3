// SPDX-License-Identifier: GPL-2.0
/*
 * htables: our record of each live page-table page of an address space,
 * found by the page-table page's pfn.
 *
 * The owner of a hat (its sync, or a test) serialises get/put on that hat;
 * the xarray's own lock only keeps the tree consistent.
 */
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "hment.h"

/**
 * hment_htable_lookup - find the htable of a page-table page
 * @hat: address space
 * @ptpfn: pfn of the page-table page
 *
 * Return: the htable or NULL.
 */
struct hment_htable *hment_htable_lookup(struct hment_hat *hat,
					 unsigned long ptpfn)
{
	return xa_load(&hat->htables, ptpfn);
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_lookup);

/**
 * hment_htable_get - find or create the htable of a page-table page
 * @hat: address space
 * @ptpfn: pfn of the page-table page
 * @level: 0, 1 or 2: its leaves map 4K, 2M or 1G
 *
 * Context: process context; may sleep.
 * Return: the htable, ERR_PTR(-EINVAL) for a bad level or a page-table
 * page already known at another level, or ERR_PTR(-ENOMEM).
 */
struct hment_htable *hment_htable_get(struct hment_hat *hat,
				      unsigned long ptpfn, unsigned int level)
{
	struct hment_index *idx = hat->idx;
	struct hment_htable *ht;
	int err;

	if (level >= HMENT_LEVELS)
		return ERR_PTR(-EINVAL);
	ht = hment_htable_lookup(hat, ptpfn);
	if (ht)
		return ht->ht_level == level ? ht : ERR_PTR(-EINVAL);

	if (hment_should_fail(&idx->fault)) {
		hment_stat_inc(idx, HMENT_STAT_FAULT_INJECTED);
		return ERR_PTR(-ENOMEM);
	}
	ht = kzalloc(sizeof(*ht), GFP_KERNEL);
	if (!ht)
		return ERR_PTR(-ENOMEM);
	ht->ht_pfn = ptpfn;
	ht->ht_hat = hat;
	ht->ht_level = level;

	err = xa_insert(&hat->htables, ptpfn, ht, GFP_KERNEL);
	if (err) {
		kfree(ht);
		return ERR_PTR(err == -EBUSY ? -EEXIST : err);
	}
	hment_stat_inc(idx, HMENT_STAT_HTABLES);
	return ht;
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_get);

/**
 * hment_htable_free - forget an htable that no index entry names
 * @ht: the htable, already erased from its hat's xarray
 */
void hment_htable_free(struct hment_htable *ht)
{
	struct hment_index *idx = ht->ht_hat->idx;

	if (test_bit(HMENT_HT_STALE, &ht->ht_flags))
		hment_stat_dec(idx, HMENT_STAT_STALE_HTABLES);
	hment_stat_dec(idx, HMENT_STAT_HTABLES);
	kfree_rcu(ht, ht_rcu);
}

/**
 * hment_htable_put - free an htable once nothing in the index names it
 * @ht: the htable
 *
 * Return: 0 when freed, -EBUSY while index entries still name it.
 */
int hment_htable_put(struct hment_htable *ht)
{
	if (atomic_read(&ht->ht_valid_cnt))
		return -EBUSY;
	xa_erase(&ht->ht_hat->htables, ht->ht_pfn);
	hment_htable_free(ht);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_put);

/**
 * hment_htable_mark_stale - note that the index lacks some of @ht's entries
 * @idx: index
 * @ht: the htable
 */
void hment_htable_mark_stale(struct hment_index *idx, struct hment_htable *ht)
{
	if (test_and_set_bit(HMENT_HT_STALE, &ht->ht_flags))
		return;
	hment_stat_inc(idx, HMENT_STAT_STALE_MARKS);
	hment_stat_inc(idx, HMENT_STAT_STALE_HTABLES);
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_mark_stale);

/**
 * hment_htable_clear_stale - note that @ht is fully indexed again
 * @idx: index
 * @ht: the htable
 */
void hment_htable_clear_stale(struct hment_index *idx, struct hment_htable *ht)
{
	if (test_and_clear_bit(HMENT_HT_STALE, &ht->ht_flags))
		hment_stat_dec(idx, HMENT_STAT_STALE_HTABLES);
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_clear_stale);

/**
 * hment_htable_stealable - may the index drop one of @ht's entries?
 * @ht: the htable
 *
 * Never the kernel's, never one being synced, never one with mlocked
 * leaves. Read without locks: a sync that starts just after this check
 * finds the entry missing and puts it back.
 *
 * Return: true if it may.
 */
bool hment_htable_stealable(const struct hment_htable *ht)
{
	return !ht->ht_hat->kernel && !atomic_read(&ht->ht_busy) &&
	       !atomic_read(&ht->ht_lock_cnt);
}
EXPORT_SYMBOL_IF_KUNIT(hment_htable_stealable);
