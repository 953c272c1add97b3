// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics, always on: per-cpu so that the mapping paths never share a
 * cache line for them. A gauge is the sum of its per-cpu deltas; it is
 * exact whenever the index is quiet.
 */
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <kunit/visibility.h>

#include "hment.h"
#include "internal.h"
#include "htable.h"
#include "hat.h"

static const char * const hment_stat_names[HMENT_NR_STATS] = {
	[HMENT_STAT_ALLOC]		= "alloc",
	[HMENT_STAT_FREE]		= "free",
	[HMENT_STAT_PUT_RESERVE]	= "put_reserve",
	[HMENT_STAT_GET_RESERVE]	= "get_reserve",
	[HMENT_STAT_STEALS]		= "steals",
	[HMENT_STAT_STEAL_EXAM]		= "steal_exam",
	[HMENT_STAT_STOLEN]		= "stolen",
	[HMENT_STAT_STEAL_GIVEUP]	= "steal_giveup",
	[HMENT_STAT_CACHE_ALLOC]	= "cache_alloc",
	[HMENT_STAT_CACHE_FREE]		= "cache_free",
	[HMENT_STAT_ALLOC_FAIL]		= "alloc_fail",
	[HMENT_STAT_FAULT_INJECTED]	= "fault_injected",
	[HMENT_STAT_STALE_MARKS]	= "stale_marks",
	[HMENT_STAT_CHANGES]		= "changes",
	[HMENT_STAT_VERIFY_UNSETTLED]	= "verify_unsettled",
	[HMENT_STAT_REMOVE_MISSING]	= "remove_missing",
	[HMENT_STAT_LIVE_HMENTS]	= "live_hments",
	[HMENT_STAT_MAPPINGS]		= "mappings",
	[HMENT_STAT_PAGES_MAPPED]	= "pages_mapped",
	[HMENT_STAT_RECORDS]		= "records",
	[HMENT_STAT_HTABLES]		= "htables",
	[HMENT_STAT_STALE_HTABLES]	= "stale_htables",
	[HMENT_STAT_HATS]		= "hats",
	[HMENT_STAT_SHADOW_BLOCKS]	= "shadow_blocks",
};

/**
 * hment_stat_read - current value of a counter
 * @idx: index
 * @item: counter
 *
 * Return: the sum over all CPUs.
 */
long hment_stat_read(struct hment_index *idx, enum hment_stat_item item)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(idx->stats, cpu)->item[item];
	return sum;
}
EXPORT_SYMBOL_IF_KUNIT(hment_stat_read);

/**
 * hment_stat_name - the name a counter is printed under
 * @item: counter
 *
 * Return: its name.
 */
const char *hment_stat_name(enum hment_stat_item item)
{
	return hment_stat_names[item];
}

/*
 * Nodes of an xarray: each entry's node and its ancestors, counted once.
 * Iteration is in index order, so a node's entries come together and one
 * remembered node per height is enough.
 */
static unsigned long hment_xa_nodes(struct xarray *xa)
{
	struct xa_node *seen[BITS_PER_LONG / XA_CHUNK_SHIFT + 1] = {};
	XA_STATE(xas, xa, 0);
	unsigned long nodes = 0;
	struct xa_node *node;
	void *entry;

	rcu_read_lock();
	xas_for_each(&xas, entry, ULONG_MAX) {
		if (xas_retry(&xas, entry))
			continue;
		for (node = xas.xa_node; node && !xas_invalid(&xas) &&
		     node->shift / XA_CHUNK_SHIFT < ARRAY_SIZE(seen);
		     node = xa_parent(xa, node)) {
			if (seen[node->shift / XA_CHUNK_SHIFT] == node)
				break;
			seen[node->shift / XA_CHUNK_SHIFT] = node;
			nodes++;
		}
	}
	rcu_read_unlock();
	return nodes;
}

/*
 * An xarray node as the slab holds it: the radix_tree_node cache has a
 * constructor, so the free pointer sits after the object.
 */
#define HMENT_XA_NODE_BYTES	(sizeof(struct xa_node) + sizeof(void *))

/* A kmem_cache object as its slab holds it, alignment included. */
static u64 hment_cache_bytes(struct kmem_cache *cache, long objects)
{
	return (u64)objects * ALIGN(kmem_cache_size(cache), sizeof(void *));
}

/* the hats and their htable hashes */
static u64 hment_hats_bytes(struct hment_index *idx)
{
	struct hment_hat *hat;
	u64 bytes = 0;

	mutex_lock(&idx->hats_lock);
	list_for_each_entry(hat, &idx->hats, node)
		bytes += kmalloc_size_roundup(sizeof(*hat)) +
			 hment_htables_hash_bytes(hat);
	mutex_unlock(&idx->hats_lock);
	return bytes;
}

/*
 * Bytes the index holds, by kind: what a mapping costs, all in. Slab
 * rounding, xarray nodes and per-cpu data are included; what the kernel
 * keeps per mm for any notifier (mmu_notifier_subscriptions) is not.
 */
static void hment_memory_print(struct hment_index *idx, struct seq_buf *s)
{
	long htables = hment_stat_read(idx, HMENT_STAT_HTABLES);
	long records = hment_stat_read(idx, HMENT_STAT_RECORDS);
	long blocks = hment_stat_read(idx, HMENT_STAT_SHADOW_BLOCKS);
	unsigned long record_nodes = hment_xa_nodes(&idx->records);
	u64 b_hments = hment_chunk_bytes(idx);
	u64 b_records = hment_cache_bytes(hment_records_cache,
					  records / HMENT_CHUNK_PFNS) +
			record_nodes * HMENT_XA_NODE_BYTES;
	u64 b_htables = hment_cache_bytes(hment_htable_cache, htables) +
			(u64)blocks * hment_shadow_block_bytes(idx);
	u64 b_hats = hment_hats_bytes(idx);
	u64 b_hash = hment_hash_bytes(idx) +
		     kmalloc_size_roundup(array_size(idx->mlist_lock_mask + 1,
						     sizeof(spinlock_t)));
	u64 b_fixed = kmalloc_size_roundup(sizeof(*idx)) +
		      (u64)num_possible_cpus() * sizeof(struct hment_stats);

	seq_buf_printf(s, "mem_hments %llu\n", b_hments);
	seq_buf_printf(s, "mem_records %llu\n", b_records);
	seq_buf_printf(s, "mem_htables %llu\n", b_htables);
	seq_buf_printf(s, "mem_hats %llu\n", b_hats);
	seq_buf_printf(s, "mem_hash %llu\n", b_hash);
	seq_buf_printf(s, "mem_fixed %llu\n", b_fixed);
	seq_buf_printf(s, "mem_xa_nodes %lu\n", record_nodes);
	seq_buf_printf(s, "mem_total %llu\n", b_hments + b_records + b_htables +
		       b_hats + b_hash + b_fixed);
}

/**
 * hment_stats_print - print every counter and the index's shape
 * @idx: index
 * @s: where to print, one "name value" per line
 */
void hment_stats_print(struct hment_index *idx, struct seq_buf *s)
{
	unsigned long longest, used;
	enum hment_stat_item item;

	for (item = 0; item < HMENT_NR_STATS; item++)
		seq_buf_printf(s, "%s %ld\n", hment_stat_name(item),
			       hment_stat_read(idx, item));
	seq_buf_printf(s, "reserve_count %u\n", READ_ONCE(idx->reserve_count));
	seq_buf_printf(s, "reserve_amount %u\n",
		       READ_ONCE(idx->reserve_amount));
	hment_hash_chains(idx, &longest, &used);
	seq_buf_printf(s, "hash_buckets %u\n", idx->hash_size);
	seq_buf_printf(s, "hash_buckets_used %lu\n", used);
	seq_buf_printf(s, "hash_longest_chain %lu\n", longest);
	seq_buf_printf(s, "mlist_locks %u\n", idx->mlist_lock_mask + 1);
	seq_buf_printf(s, "hash_locks %u\n", idx->hash_lock_mask + 1);
	seq_buf_printf(s, "hash_resizes %lu\n", READ_ONCE(idx->hash_resizes));
	seq_buf_printf(s, "max_pfn %lu\n", idx->max_pfn);
	seq_buf_printf(s, "hment_size %zu\n", sizeof(struct hment));
	seq_buf_printf(s, "record_size %zu\n", sizeof(struct hment_page));
	hment_memory_print(idx, s);
}

/* Pages counted per hment_mapcnt_range() call: 512 bytes of stack. */
#define HMENT_HIST_BATCH	64

/**
 * hment_stats_histogram - how many pfns have 1, 2, 3-4, 5-8, ... mappings
 * @idx: index
 * @hist: HMENT_HIST_BUCKETS counters, zeroed by the caller
 *
 * Context: process context; may sleep.
 */
void hment_stats_histogram(struct hment_index *idx, unsigned long *hist)
{
	u64 cnt[HMENT_HIST_BATCH];
	unsigned long pfn, n, i;

	for (pfn = 0; pfn < idx->max_pfn; pfn += n) {
		n = min_t(unsigned long, HMENT_HIST_BATCH, idx->max_pfn - pfn);
		hment_mapcnt_range(idx, pfn, n, cnt);
		/* 1, 2, 3-4, 5-8, ...: bucket b holds (2^(b-1), 2^b] */
		for (i = 0; i < n; i++)
			if (cnt[i])
				hist[cnt[i] == 1 ? 0 : fls64(cnt[i] - 1)]++;
		if (!(pfn % 4096))
			cond_resched();
	}
}
