// SPDX-License-Identifier: GPL-2.0
/*
 * hment: a reverse map from page frames to the page-table entries that map
 * them, after the illumos x86 HAT. Module parameters and the one index the
 * module keeps.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/slab.h>

#include "hment.h"
#include "internal.h"
#include "htable.h"
#include "hat.h"
#include "debugfs.h"

static unsigned int hash_buckets;
module_param(hash_buckets, uint, 0400);
MODULE_PARM_DESC(hash_buckets, "a fixed number of hash buckets, a power of two (default 0: grow and shrink with the hments held)");

static unsigned int mlist_locks = 256;
module_param(mlist_locks, uint, 0400);
MODULE_PARM_DESC(mlist_locks, "mapping-list locks, a power of two (default 256)");

static unsigned int hash_locks = 256;
module_param(hash_locks, uint, 0400);
MODULE_PARM_DESC(hash_locks, "hash-bucket locks, a power of two (default 256)");

static unsigned int reserve_amount = 200;
module_param(reserve_amount, uint, 0400);
MODULE_PARM_DESC(reserve_amount, "hments kept in reserve (default 200)");

static bool track_all = true;
module_param(track_all, bool, 0400);
MODULE_PARM_DESC(track_all, "track every user process at load and each sync (default true)");

static unsigned int fail_nth;
module_param(fail_nth, uint, 0400);
MODULE_PARM_DESC(fail_nth, "fail the Nth allocation after load (default 0: off)");

static unsigned int fail_every;
module_param(fail_every, uint, 0400);
MODULE_PARM_DESC(fail_every, "fail every Nth allocation (default 0: off)");

static unsigned int fail_sites;
module_param(fail_sites, uint, 0400);
MODULE_PARM_DESC(fail_sites, "mask of allocation sites fail_nth/fail_every apply to: 1 hments, 2 records, 4 htables, 8 hats, 16 index, 32 debugfs (default 0: all)");

/* Shared by every index, so a leak anywhere shows when it is destroyed. */
struct kmem_cache *hment_cache;
struct kmem_cache *hment_htable_cache;
struct kmem_cache *hment_records_cache;
struct kmem_cache *hment_shadow_cache;

static struct hment_index *hment_idx;

/* Node spans, since max_pfn itself is not exported to modules. */
static unsigned long hment_end_pfn(void)
{
	unsigned long end = 0;
	int nid;

	for_each_online_node(nid)
		end = max(end, node_end_pfn(nid));
	return end;
}

static int __init hment_init(void)
{
	struct hment_params params = {
		.max_pfn = hment_end_pfn(),
		.hash_buckets = hash_buckets,
		.mlist_locks = mlist_locks,
		.hash_locks = hash_locks,
		.reserve_amount = reserve_amount,
		.fail_nth = fail_nth,
		.fail_every = fail_every,
		.fail_sites = fail_sites,
	};
	int err = -ENOMEM;

	/* chunks of hments, aligned: an hment finds its chunk's header */
	hment_cache = kmem_cache_create("hment", HMENT_HCHUNK_BYTES,
					HMENT_HCHUNK_BYTES, 0, NULL);
	if (!hment_cache)
		return -ENOMEM;
	/*
	 * Caches of their own: 264 bytes would take 512 from kmalloc, and the
	 * kernel's accounting of a cache of ours is ours alone (bench).
	 */
	hment_htable_cache = KMEM_CACHE(hment_htable, 0);
	if (!hment_htable_cache)
		goto destroy_hment_cache;
	hment_records_cache = kmem_cache_create("hment_records",
						HMENT_CHUNK_PFNS *
						sizeof(struct hment_page),
						0, 0, NULL);
	if (!hment_records_cache)
		goto destroy_htable_cache;
	/* 32-bit blocks; machines with pfns past 32 bits kmalloc theirs */
	hment_shadow_cache = kmem_cache_create("hment_shadow",
					       HMENT_SHADOW_ENTRIES * sizeof(u32),
					       0, 0, NULL);
	if (!hment_shadow_cache)
		goto destroy_records_cache;

	hment_idx = hment_index_create(&params);
	if (IS_ERR(hment_idx)) {
		err = PTR_ERR(hment_idx);
		pr_err("cannot create the index: %pe (counts must be powers of two, each within its bound)\n",
		       hment_idx);
		goto destroy_shadow_cache;
	}
	err = hment_hats_init(hment_idx);
	if (err) {
		pr_err("cannot create the kernel's address space: %pe\n",
		       ERR_PTR(err));
		goto destroy_index;
	}
	hment_reserve(hment_idx, 0);
	if (track_all) {
		mutex_lock(&hment_idx->sync_lock);
		hment_idx->track_all = true;
		hment_hat_track_all(hment_idx);
		mutex_unlock(&hment_idx->sync_lock);
	}
	hment_debugfs_init(hment_idx);
	pr_info("%lu pfns, %u hash buckets, hment %zu bytes\n",
		hment_idx->max_pfn, hment_idx->hash_size,
		sizeof(struct hment));
	return 0;

destroy_index:
	hment_index_destroy(hment_idx);
	/* htables are freed after a grace period */
	rcu_barrier();
destroy_shadow_cache:
	kmem_cache_destroy(hment_shadow_cache);
destroy_records_cache:
	kmem_cache_destroy(hment_records_cache);
destroy_htable_cache:
	kmem_cache_destroy(hment_htable_cache);
destroy_hment_cache:
	kmem_cache_destroy(hment_cache);
	return err;
}

static void __exit hment_exit(void)
{
	hment_debugfs_exit();
	hment_index_destroy(hment_idx);
	/* htables are freed after a grace period */
	rcu_barrier();
	kmem_cache_destroy(hment_shadow_cache);
	kmem_cache_destroy(hment_records_cache);
	kmem_cache_destroy(hment_htable_cache);
	kmem_cache_destroy(hment_cache);
}

module_init(hment_init);
module_exit(hment_exit);

MODULE_DESCRIPTION("Reverse map from page frames to the page-table entries that map them");
MODULE_LICENSE("GPL");
