// SPDX-License-Identifier: GPL-2.0
/*
 * The invariant check. Every change to the index happens under a
 * mapping-list lock, so with all of them held the index is frozen and can
 * be checked whole while mappers wait.
 */
#include <linux/lockdep.h>
#include <kunit/visibility.h>

#include "hment.h"

struct hment_tally {
	unsigned long errors;
	unsigned long mappings;		/* from the records */
	unsigned long listed;		/* hments on lists */
	unsigned long hashed;		/* hments in the hash */
	unsigned long pages_mapped;
	unsigned long htables;
	unsigned long stale;
	unsigned long valid;		/* sum of ht_valid_cnt */
};

static __printf(3, 4) void hment_fail(struct hment_tally *t,
				      struct seq_buf *s, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	t->errors++;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	seq_buf_printf(s, "%pV", &vaf);
	va_end(args);
}

/*
 * Sparse cannot follow a lock taken in one loop and dropped in another:
 * each lock is handed over with __release()/__acquire(), which only it sees.
 */
static void hment_freeze_one(spinlock_t *lock, struct mutex *nest)
{
	/* All locks of one class, so tell lockdep they nest under one. */
	spin_lock_nest_lock(lock, nest);
	__release(lock);
}

static void hment_thaw_one(spinlock_t *lock)
{
	__acquire(lock);
	spin_unlock(lock);
}

static void hment_freeze(struct hment_index *idx)
{
	unsigned int i;

	lockdep_assert_held(&idx->freeze_lock);
	for (i = 0; i <= idx->mlist_lock_mask; i++)
		hment_freeze_one(&idx->mlist_locks[i], &idx->freeze_lock);
}

static void hment_thaw(struct hment_index *idx)
{
	unsigned int i;

	for (i = 0; i <= idx->mlist_lock_mask; i++)
		hment_thaw_one(&idx->mlist_locks[i]);
}

static bool hment_ht_ours(struct hment_index *idx, struct hment_htable *ht)
{
	return ht && ht->ht_hat && ht->ht_hat->idx == idx &&
	       ht->ht_level < HMENT_LEVELS &&
	       hment_htable_lookup(ht->ht_hat, ht->ht_level, ht->ht_va) == ht;
}

static bool hment_hashed(struct hment_index *idx, struct hment *want)
{
	unsigned int bucket = hment_hash_index(idx, want->hm_htable->ht_pfn,
					       want->hm_entry);
	struct hment *hm;

	for (hm = idx->hash[bucket]; hm; hm = hm->hm_hashnext)
		if (hm == want)
			return true;
	return false;
}

/* One mapping of @pfn, embedded or listed: checks common to both. */
static void hment_check_mapping(struct hment_index *idx,
				struct hment_tally *t, struct seq_buf *s,
				unsigned long pfn, struct hment_page *pg,
				struct hment_htable *ht, unsigned int entry)
{
	if (!hment_ht_ours(idx, ht)) {
		hment_fail(t, s, "pfn %#lx: mapping names a foreign htable\n",
			   pfn);
		return;
	}
	if (entry >= HMENT_ENTRIES)
		hment_fail(t, s, "pfn %#lx: entry %u out of range\n", pfn,
			   entry);
	if (!IS_ALIGNED(pfn, HMENT_LEVEL_PAGES(ht->ht_level)))
		hment_fail(t, s, "pfn %#lx: level %u leaf not aligned\n", pfn,
			   ht->ht_level);
	if (pg->szc < ht->ht_level)
		hment_fail(t, s, "pfn %#lx: szc %u below level %u\n", pfn,
			   pg->szc, ht->ht_level);
	if (entry < HMENT_ENTRIES && hment_htable_shadow(ht, entry) != pfn)
		hment_fail(t, s, "pfn %#lx: htable %#lx entry %u shadows %#lx\n",
			   pfn, ht->ht_pfn, entry, hment_htable_shadow(ht, entry));
	t->mappings++;
}

static void hment_check_list(struct hment_index *idx, struct hment_tally *t,
			     struct seq_buf *s, unsigned long pfn,
			     struct hment_page *pg)
{
	unsigned long n = 0;
	struct hment *hm;

	hlist_for_each_entry(hm, &pg->hments, hm_list) {
		if (++n > pg->share) {
			hment_fail(t, s, "pfn %#lx: list longer than share %u\n",
				   pfn, pg->share);
			return;
		}
		if (hm->hm_pfn != pfn)
			hment_fail(t, s, "pfn %#lx: hment on list names pfn %#llx\n",
				   pfn, (u64)hm->hm_pfn);
		hment_check_mapping(idx, t, s, pfn, pg, hm->hm_htable,
				    hm->hm_entry);
		if (hment_ht_ours(idx, hm->hm_htable) && !hment_hashed(idx, hm))
			hment_fail(t, s, "pfn %#lx: listed hment not hashed\n",
				   pfn);
	}
	if (n != pg->share)
		hment_fail(t, s, "pfn %#lx: list has %lu hments, share %u\n",
			   pfn, n, pg->share);
	t->listed += n;
}

static void hment_check_record(struct hment_index *idx, struct hment_tally *t,
			       struct seq_buf *s, unsigned long pfn,
			       struct hment_page *pg)
{
	bool embedded = pg->flags & HMENT_PAGE_EMBEDDED;

#if IS_ENABLED(CONFIG_KUNIT)
	if (idx->verify_hook)
		idx->verify_hook(idx, true);
#endif
	if (!pg->hments.first) {
		if (pg->flags || pg->share || pg->entry)
			hment_fail(t, s, "pfn %#lx: unmapped record not clear\n",
				   pfn);
		return;
	}
	t->pages_mapped++;
	if (embedded) {
		if (pg->share)
			hment_fail(t, s, "pfn %#lx: embedded with share %u\n",
				   pfn, pg->share);
		hment_check_mapping(idx, t, s, pfn, pg, pg->embed_ht,
				    pg->entry);
		return;
	}
	if (pg->entry)
		hment_fail(t, s, "pfn %#lx: listed record keeps an entry\n",
			   pfn);
	hment_check_list(idx, t, s, pfn, pg);
}

static void hment_check_records(struct hment_index *idx,
				struct hment_tally *t, struct seq_buf *s)
{
	struct hment_page *pg;
	unsigned long pfn;

	for (pfn = 0; pfn < idx->max_pfn; pfn++) {
		pg = hment_page(idx, pfn);
		if (!pg) {
			pfn |= HMENT_CHUNK_PFNS - 1;
			continue;
		}
		hment_check_record(idx, t, s, pfn, pg);
	}
}

/*
 * Every listed hment was found in the hash above; if the hash holds no
 * more than were listed, the two are the same set. Chains are bounded by
 * the listed count, so a corrupted (cyclic) chain cannot hang us.
 */
static void hment_check_hash(struct hment_index *idx, struct hment_tally *t,
			     struct seq_buf *s)
{
	unsigned long bucket;
	struct hment *hm;

	for (bucket = 0; bucket <= idx->hash_mask; bucket++) {
		for (hm = idx->hash[bucket]; hm; hm = hm->hm_hashnext) {
			if (++t->hashed > t->listed) {
				hment_fail(t, s, "hash holds more hments than the lists (%lu)\n",
					   t->listed);
				return;
			}
			if (!hment_ht_ours(idx, hm->hm_htable)) {
				hment_fail(t, s, "bucket %lu: foreign htable\n",
					   bucket);
				continue;
			}
			if (hment_hash_index(idx, hm->hm_htable->ht_pfn,
					     hm->hm_entry) != bucket)
				hment_fail(t, s, "bucket %lu: key hashes elsewhere\n",
					   bucket);
		}
	}
	if (t->hashed != t->listed)
		hment_fail(t, s, "%lu hments hashed, %lu listed\n", t->hashed,
			   t->listed);
}

/* Each htable's valid count equals the entries its shadow holds. */
static void hment_check_htable(struct hment_tally *t, struct seq_buf *s,
			       struct hment_htable *ht)
{
	unsigned int entry, shadowed = 0;

	for (entry = 0; entry < HMENT_ENTRIES; entry++)
		shadowed += hment_htable_shadow(ht, entry) != HMENT_NO_PFN;
	if (shadowed != atomic_read(&ht->ht_valid_cnt))
		hment_fail(t, s, "htable %#lx: %u shadowed entries, valid %d\n",
			   ht->ht_pfn, shadowed, atomic_read(&ht->ht_valid_cnt));
	t->htables++;
	t->stale += test_bit(HMENT_HT_STALE, &ht->ht_flags);
	t->valid += atomic_read(&ht->ht_valid_cnt);
}

static void hment_check_htables(struct hment_index *idx,
				struct hment_tally *t, struct seq_buf *s)
{
	struct hment_htable *ht;
	struct hment_hat *hat;
	unsigned int level;
	unsigned long key;

	lockdep_assert_held(&idx->hats_lock);
	rcu_read_lock();
	list_for_each_entry(hat, &idx->hats, node)
		for (level = 0; level < HMENT_LEVELS; level++)
			xa_for_each(&hat->htables[level], key, ht)
				hment_check_htable(t, s, ht);
	rcu_read_unlock();
}

static void hment_check_gauge(struct hment_index *idx, struct hment_tally *t,
			      struct seq_buf *s, enum hment_stat_item item,
			      unsigned long found)
{
	long gauge = hment_stat_read(idx, item);

	if (gauge != found)
		hment_fail(t, s, "counter %s is %ld, index has %lu\n",
			   hment_stat_name(item), gauge, found);
}

static unsigned long hment_reserve_length(struct hment_index *idx)
{
	unsigned long n = 0;
	struct hment *hm;

	spin_lock(&idx->reserve_lock);
	for (hm = idx->reserve_pool; hm && n <= idx->reserve_count;
	     hm = hm->hm_hashnext)
		n++;
	spin_unlock(&idx->reserve_lock);
	return n;
}

/* Counters that only add up when nobody is between two steps. */
static void hment_check_quiet(struct hment_index *idx, struct hment_tally *t,
			      struct seq_buf *s)
{
	long outstanding = hment_stat_read(idx, HMENT_STAT_CACHE_ALLOC) -
			   hment_stat_read(idx, HMENT_STAT_CACHE_FREE);
	unsigned long reserve = hment_reserve_length(idx);

	if (reserve != READ_ONCE(idx->reserve_count))
		hment_fail(t, s, "reserve holds %lu, count says %u\n", reserve,
			   READ_ONCE(idx->reserve_count));
	if (outstanding != t->listed + reserve)
		hment_fail(t, s, "%ld hments from the cache, %lu listed + %lu in reserve\n",
			   outstanding, t->listed, reserve);
	hment_check_gauge(idx, t, s, HMENT_STAT_HTABLES, t->htables);
	hment_check_gauge(idx, t, s, HMENT_STAT_STALE_HTABLES, t->stale);
}

/**
 * hment_verify - check every invariant of the index
 * @idx: index
 * @s: gets one line per violation (as many as fit)
 * @quiet: the caller knows nobody is mapping or allocating: also check
 *	   that the cache, reserve and htable counters add up exactly
 *
 * Checks: each record is clear, embedded (one mapping, no list) or listed
 * (list length equals share, every hment names this pfn); every mapping
 * names an htable of this index at a level its pfn is aligned for, and
 * that htable's shadow names the pfn back; every
 * listed hment is hashed in the bucket of its key and the hash holds
 * nothing else; the sum of the htables' valid counts and the gauges match
 * what was found.
 *
 * Context: process context; mappers spin while it runs.
 * Return: the number of violations, 0 when all hold.
 */
unsigned long hment_verify(struct hment_index *idx, struct seq_buf *s,
			   bool quiet)
{
	struct hment_tally t = {};

	mutex_lock(&idx->freeze_lock);
	mutex_lock(&idx->hats_lock);
	hment_freeze(idx);

	hment_check_records(idx, &t, s);
	hment_check_hash(idx, &t, s);
	hment_check_htables(idx, &t, s);
	if (t.valid != t.mappings)
		hment_fail(&t, s, "htables count %lu entries, records %lu\n",
			   t.valid, t.mappings);
	hment_check_gauge(idx, &t, s, HMENT_STAT_MAPPINGS, t.mappings);
	hment_check_gauge(idx, &t, s, HMENT_STAT_LIVE_HMENTS, t.listed);
	hment_check_gauge(idx, &t, s, HMENT_STAT_PAGES_MAPPED, t.pages_mapped);
	if (quiet)
		hment_check_quiet(idx, &t, s);

	hment_thaw(idx);
	mutex_unlock(&idx->hats_lock);
	mutex_unlock(&idx->freeze_lock);
	return t.errors;
}
EXPORT_SYMBOL_IF_KUNIT(hment_verify);
