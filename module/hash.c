// SPDX-License-Identifier: GPL-2.0
/*
 * The system-wide hash of listed hments, keyed by (page-table pfn, entry).
 *
 * Only hments are hashed: a page mapped once keeps its mapping embedded in
 * its record, where the remover finds it without the hash. Chains are
 * singly linked; a remover has to walk the chain to find its hment anyway.
 */
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "hment.h"

/**
 * hment_hash_index - bucket of a (page-table pfn, entry) key
 * @idx: index
 * @ptpfn: pfn of the page-table page
 * @entry: entry within it
 *
 * The same entry recurs in every process that maps a shared library at the
 * same address, so the page-table pfn is mixed into the high bits too (the
 * shift by 9 matches the 512 entries of a table).
 *
 * Return: the bucket number.
 */
unsigned int hment_hash_index(struct hment_index *idx, unsigned long ptpfn,
			      unsigned int entry)
{
	return ((ptpfn << HMENT_LEVEL_SHIFT) + entry + ptpfn) & idx->hash_mask;
}
EXPORT_SYMBOL_IF_KUNIT(hment_hash_index);

static spinlock_t *hment_hash_lockp(struct hment_index *idx,
				    unsigned int bucket)
{
	return &idx->hash_locks[bucket & idx->hash_lock_mask];
}

static unsigned int hment_bucket_of(struct hment_index *idx,
				    const struct hment *hm)
{
	return hment_hash_index(idx, hm->hm_htable->ht_pfn, hm->hm_entry);
}

static bool hment_matches(const struct hment *hm,
			  const struct hment_htable *ht, unsigned int entry,
			  unsigned long pfn)
{
	return hm->hm_htable == ht && hm->hm_entry == entry &&
	       hm->hm_pfn == pfn;
}

/**
 * hment_hash_insert - add a listed hment to the hash
 * @idx: index
 * @hm: hment with htable, entry and pfn set
 *
 * Context: the mapping-list lock of @hm's pfn is held.
 */
void hment_hash_insert(struct hment_index *idx, struct hment *hm)
{
	unsigned int bucket = hment_bucket_of(idx, hm);
	spinlock_t *lock = hment_hash_lockp(idx, bucket);

	lockdep_assert_held(hment_page_lockp(idx, hm->hm_pfn));
	spin_lock(lock);
	hm->hm_hashnext = idx->hash[bucket];
	idx->hash[bucket] = hm;
	spin_unlock(lock);
}

/**
 * hment_hash_find - look up a listed mapping
 * @idx: index
 * @ht: page-table page
 * @entry: entry within it
 * @pfn: the page it maps
 *
 * Context: the mapping-list lock of @pfn is held, so the hment stays.
 * Return: the hment, or NULL.
 */
struct hment *hment_hash_find(struct hment_index *idx, struct hment_htable *ht,
			      unsigned int entry, unsigned long pfn)
{
	unsigned int bucket = hment_hash_index(idx, ht->ht_pfn, entry);
	spinlock_t *lock = hment_hash_lockp(idx, bucket);
	struct hment *hm;

	lockdep_assert_held(hment_page_lockp(idx, pfn));
	spin_lock(lock);
	for (hm = idx->hash[bucket]; hm; hm = hm->hm_hashnext)
		if (hment_matches(hm, ht, entry, pfn))
			break;
	spin_unlock(lock);
	return hm;
}
EXPORT_SYMBOL_IF_KUNIT(hment_hash_find);

/**
 * hment_hash_remove - take a listed mapping out of the hash
 * @idx: index
 * @ht: page-table page
 * @entry: entry within it
 * @pfn: the page it maps
 *
 * Context: the mapping-list lock of @pfn is held.
 * Return: the unhashed hment, still on its page's list, or NULL if absent.
 */
struct hment *hment_hash_remove(struct hment_index *idx,
				struct hment_htable *ht, unsigned int entry,
				unsigned long pfn)
{
	unsigned int bucket = hment_hash_index(idx, ht->ht_pfn, entry);
	spinlock_t *lock = hment_hash_lockp(idx, bucket);
	struct hment **link, *hm;

	lockdep_assert_held(hment_page_lockp(idx, pfn));
	spin_lock(lock);
	for (link = &idx->hash[bucket]; (hm = *link); link = &hm->hm_hashnext) {
		if (hment_matches(hm, ht, entry, pfn)) {
			*link = hm->hm_hashnext;
			hm->hm_hashnext = NULL;
			break;
		}
	}
	spin_unlock(lock);
	return hm;
}

/**
 * hment_hash_chains - measure the hash chains
 * @idx: index
 * @longest: set to the longest chain
 * @used_buckets: set to the number of non-empty buckets
 *
 * Each bucket is read under its lock; the figures are a snapshot only when
 * the index is quiet.
 */
void hment_hash_chains(struct hment_index *idx, unsigned long *longest,
		       unsigned long *used_buckets)
{
	unsigned long bucket, len;
	struct hment *hm;

	*longest = 0;
	*used_buckets = 0;
	for (bucket = 0; bucket <= idx->hash_mask; bucket++) {
		spinlock_t *lock = hment_hash_lockp(idx, bucket);

		len = 0;
		spin_lock(lock);
		for (hm = idx->hash[bucket]; hm; hm = hm->hm_hashnext)
			len++;
		spin_unlock(lock);
		if (len)
			(*used_buckets)++;
		*longest = max(*longest, len);
		if (!(bucket & 4095))
			cond_resched();
	}
}
EXPORT_SYMBOL_IF_KUNIT(hment_hash_chains);

/**
 * hment_default_hash_buckets - hash size for this machine
 *
 * The seed fixed 64K buckets and wished for sizing by memory. One bucket
 * per page of RAM (8 bytes a page, 0.2% of RAM) keeps the mean chain under
 * two until there are twice as many shared mappings as pages, as a fork
 * tree of a million mappings in a 3G guest has; bounded so small guests
 * still get a useful table and huge hosts don't get a huge one.
 *
 * Return: a power of two.
 */
unsigned int hment_default_hash_buckets(void)
{
	unsigned long want = totalram_pages();

	return roundup_pow_of_two(clamp(want, 1UL << 12, 1UL << 24));
}
EXPORT_SYMBOL_IF_KUNIT(hment_default_hash_buckets);

/**
 * hment_hash_init - allocate the buckets and their locks
 * @idx: index being built
 * @p: its parameters (power-of-two counts, already checked)
 *
 * Return: 0 or -ENOMEM.
 */
int hment_hash_init(struct hment_index *idx, const struct hment_params *p)
{
	static struct lock_class_key hash_lock_class;

	if (hment_should_fail(&idx->fault, HMENT_FAULT_INDEX))
		return -ENOMEM;
	idx->hash_mask = p->hash_buckets - 1;
	idx->hash = kvcalloc(p->hash_buckets, sizeof(*idx->hash), GFP_KERNEL);
	if (!idx->hash)
		return -ENOMEM;

	idx->hash_lock_mask = p->hash_locks - 1;
	idx->hash_locks = hment_locks_alloc(p->hash_locks, &hash_lock_class);
	if (!idx->hash_locks) {
		kvfree(idx->hash);
		return -ENOMEM;
	}
	return 0;
}

/**
 * hment_hash_destroy - free the buckets and locks of an emptied index
 * @idx: index
 */
void hment_hash_destroy(struct hment_index *idx)
{
	kvfree(idx->hash);
	kfree(idx->hash_locks);
}
