// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics, always on: per-cpu so that the mapping paths never share a
 * cache line for them. A gauge is the sum of its per-cpu deltas; it is
 * exact whenever the index is quiet.
 */
#include <linux/percpu.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "hment.h"

static const char * const hment_stat_names[HMENT_NR_STATS] = {
	[HMENT_STAT_ALLOC]		= "alloc",
	[HMENT_STAT_FREE]		= "free",
	[HMENT_STAT_PUT_RESERVE]	= "put_reserve",
	[HMENT_STAT_GET_RESERVE]	= "get_reserve",
	[HMENT_STAT_STEALS]		= "steals",
	[HMENT_STAT_STEAL_EXAM]		= "steal_exam",
	[HMENT_STAT_STOLEN]		= "stolen",
	[HMENT_STAT_CACHE_ALLOC]	= "cache_alloc",
	[HMENT_STAT_CACHE_FREE]		= "cache_free",
	[HMENT_STAT_ALLOC_FAIL]		= "alloc_fail",
	[HMENT_STAT_FAULT_INJECTED]	= "fault_injected",
	[HMENT_STAT_STALE_MARKS]	= "stale_marks",
	[HMENT_STAT_REMOVE_MISSING]	= "remove_missing",
	[HMENT_STAT_LIVE_HMENTS]	= "live_hments",
	[HMENT_STAT_MAPPINGS]		= "mappings",
	[HMENT_STAT_PAGES_MAPPED]	= "pages_mapped",
	[HMENT_STAT_RECORDS]		= "records",
	[HMENT_STAT_HTABLES]		= "htables",
	[HMENT_STAT_STALE_HTABLES]	= "stale_htables",
	[HMENT_STAT_HATS]		= "hats",
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
 * Bytes the index holds, by kind: what a mapping costs, all in. Slab
 * rounding is included where the object size is known.
 */
static void hment_memory_print(struct hment_index *idx, struct seq_buf *s)
{
	long hments = hment_stat_read(idx, HMENT_STAT_CACHE_ALLOC) -
		      hment_stat_read(idx, HMENT_STAT_CACHE_FREE);
	long htables = hment_stat_read(idx, HMENT_STAT_HTABLES);
	long records = hment_stat_read(idx, HMENT_STAT_RECORDS);
	long hats = hment_stat_read(idx, HMENT_STAT_HATS);
	u64 b_hments = (u64)hments * kmem_cache_size(hment_cache);
	u64 b_records = (u64)records * sizeof(struct hment_page) +
			idx->nr_chunks * sizeof(*idx->chunks);
	u64 b_htables = (u64)htables *
			(kmalloc_size_roundup(sizeof(struct hment_htable)) +
			 HMENT_ENTRIES * sizeof(unsigned long));
	u64 b_hats = (u64)hats * kmalloc_size_roundup(sizeof(struct hment_hat));
	u64 b_hash = hment_hash_bytes(idx) +
		     (u64)(idx->mlist_lock_mask + 1) * sizeof(spinlock_t);

	seq_buf_printf(s, "mem_hments %llu\n", b_hments);
	seq_buf_printf(s, "mem_records %llu\n", b_records);
	seq_buf_printf(s, "mem_htables %llu\n", b_htables);
	seq_buf_printf(s, "mem_hats %llu\n", b_hats);
	seq_buf_printf(s, "mem_hash %llu\n", b_hash);
	seq_buf_printf(s, "mem_total %llu\n",
		       b_hments + b_records + b_htables + b_hats + b_hash);
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
	seq_buf_printf(s, "hash_buckets %u\n", idx->hash_mask + 1);
	seq_buf_printf(s, "hash_buckets_used %lu\n", used);
	seq_buf_printf(s, "hash_longest_chain %lu\n", longest);
	seq_buf_printf(s, "mlist_locks %u\n", idx->mlist_lock_mask + 1);
	seq_buf_printf(s, "hash_locks %u\n", idx->hash_lock_mask + 1);
	seq_buf_printf(s, "max_pfn %lu\n", idx->max_pfn);
	seq_buf_printf(s, "hment_size %zu\n", sizeof(struct hment));
	seq_buf_printf(s, "record_size %zu\n", sizeof(struct hment_page));
	hment_memory_print(idx, s);
}
