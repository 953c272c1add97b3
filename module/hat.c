// SPDX-License-Identifier: GPL-2.0
/*
 * hats: the address spaces whose page tables the index covers, after the
 * illumos hat_t. The kernel's is made with the index and is never stolen
 * from.
 */
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "hment.h"

/**
 * hment_hat_create - add an address space to the index
 * @idx: index
 * @pid: thread-group id of its owner, 0 for the kernel
 * @kernel: true for the kernel's address space
 *
 * Context: process context; may sleep.
 * Return: the hat or ERR_PTR(-ENOMEM).
 */
struct hment_hat *hment_hat_create(struct hment_index *idx, pid_t pid,
				   bool kernel)
{
	struct hment_hat *hat;

	if (hment_should_fail(&idx->fault)) {
		hment_stat_inc(idx, HMENT_STAT_FAULT_INJECTED);
		return ERR_PTR(-ENOMEM);
	}
	hat = kzalloc(sizeof(*hat), GFP_KERNEL);
	if (!hat)
		return ERR_PTR(-ENOMEM);
	hat->idx = idx;
	hat->pid = pid;
	hat->kernel = kernel;
	xa_init(&hat->htables);

	mutex_lock(&idx->hats_lock);
	list_add_tail(&hat->node, &idx->hats);
	mutex_unlock(&idx->hats_lock);
	hment_stat_inc(idx, HMENT_STAT_HATS);
	return hat;
}
EXPORT_SYMBOL_IF_KUNIT(hment_hat_create);

/**
 * hment_hat_destroy - remove an address space and its htables
 * @hat: the hat; its mappings must already be out of the index
 *
 * Context: process context; may sleep.
 * Return: 0, or -EBUSY (and nothing freed) while an htable of @hat is
 * still named by an index entry: freeing it would leave that entry
 * pointing at freed memory.
 */
int hment_hat_destroy(struct hment_hat *hat)
{
	struct hment_index *idx = hat->idx;
	struct hment_htable *ht;
	unsigned long ptpfn;

	xa_for_each(&hat->htables, ptpfn, ht)
		if (WARN_ON_ONCE(atomic_read(&ht->ht_valid_cnt)))
			return -EBUSY;

	mutex_lock(&idx->hats_lock);
	list_del(&hat->node);
	mutex_unlock(&idx->hats_lock);

	xa_for_each(&hat->htables, ptpfn, ht)
		hment_htable_free(ht);
	xa_destroy(&hat->htables);
	hment_stat_dec(idx, HMENT_STAT_HATS);
	kfree(hat);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hment_hat_destroy);
