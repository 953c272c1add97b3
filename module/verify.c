// SPDX-License-Identifier: GPL-2.0
/*
 * The invariant check, run while mappers and notifiers go on. It never
 * holds more than one mapping-list lock (and a bucket lock inside it), and
 * drops them between records, so a mapper waits for one record's check at
 * most and the checker stays preemptible in between.
 *
 * Two kinds of invariant:
 *  - per record, true whenever its list lock is held: the record's shape,
 *    each of its mappings (htable, alignment, shadow) and that each listed
 *    hment is hashed. Checked with that lock held, always;
 *  - sums across the index (the hash holds only listed hments, valid
 *    counts and gauges add up), true only of an index at rest. Every change
 *    to a record first bumps HMENT_STAT_CHANGES; when that count is the
 *    same after the check as before, nothing changed in between and the
 *    sums are compared. Otherwise they are not, and verify_unsettled
 *    counts it; a quiet verify (the caller says nothing changes) that sees
 *    a change fails. Clear records and empty buckets are read without
 *    their locks: a change in flight when the check starts is waited out
 *    first (hment_wait_changes()), and one that starts later shows in the
 *    count if the check saw any part of it.
 */
#include <linux/lockdep.h>
#include <linux/sched.h>
#include <kunit/visibility.h>

#include "compat.h"
#include "hment.h"
#include "internal.h"
#include "htable.h"
#include "hat.h"

struct hment_tally {
	unsigned long errors;
	unsigned long mappings;		/* from the records */
	unsigned long listed;		/* hments on lists */
	unsigned long hashed;		/* hments in the hash */
	unsigned long pages_mapped;
	unsigned long htables;
	unsigned long stale;
	unsigned long valid;		/* sum of ht_valid_cnt */
	unsigned long ht_mismatch;	/* htables whose shadow and count differ */
	unsigned long ht_example;	/* the first of them */
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

static void hment_verify_hook(struct hment_index *idx, bool locked)
{
#if IS_ENABLED(CONFIG_KUNIT)
	if (idx->verify_hook)
		idx->verify_hook(idx, locked);
#endif
}

static bool hment_ht_ours(struct hment_index *idx, struct hment_htable *ht)
{
	return ht && ht->ht_hat && ht->ht_hat->idx == idx &&
	       ht->ht_level < HMENT_LEVELS &&
	       hment_htable_lookup(ht->ht_hat, ht->ht_level, ht->ht_va) == ht;
}

/* The slot an id names, or NULL when it names no slot of a live chunk. */
static struct hment *hment_slot_checked(struct hment_index *idx, u32 id)
{
	struct hment *chunk = hment_ids_lookup(&idx->hm_chunks,
					       id >> HMENT_HCHUNK_SHIFT);
	struct hment *hm;

	if (!chunk || !(id & (HMENT_HCHUNK_SLOTS - 1)))
		return NULL;
	hm = &chunk[id & (HMENT_HCHUNK_SLOTS - 1)];
	return hment_id(hm) == id ? hm : NULL;
}

/*
 * The hment an id names, or NULL when the id names no slot of a live
 * chunk, or a slot whose htable id is not handed out (a free slot has
 * none).
 */
static struct hment *hment_checked(struct hment_index *idx, u32 id)
{
	struct hment *hm = hment_slot_checked(idx, id);
	struct hment_htable *ht;

	if (!hm)
		return NULL;
	ht = hment_ids_lookup(&idx->ht_ids, hm->hm_ht_entry >> HMENT_LEVEL_SHIFT);
	if (!ht || ht->ht_id != hm->hm_ht_entry >> HMENT_LEVEL_SHIFT)
		return NULL;
	return hm;
}

/*
 * Under the pfn's list lock; the bucket is read under its own lock, in
 * the complete table (freeze_lock holds resizes off). Not through
 * hment_hash_find(): every id on the chain is checked before it is
 * followed, and the walk is bounded.
 */
static bool hment_hashed(struct hment_index *idx, struct hment *want,
			 struct hment_htable *ht)
{
	unsigned long bucket = hment_hash_index(idx, ht, hment_entry(want));
	unsigned long len = 0, limit;
	spinlock_t *lock = &idx->hash_locks[bucket & idx->hash_lock_mask].lock;
	u32 id, want_id = hment_id(want);
	struct hment *hm;

	lockdep_assert_held(&idx->freeze_lock);
	limit = hment_stat_read(idx, HMENT_STAT_LIVE_HMENTS) + HMENT_ENTRIES;
	spin_lock(lock);
	for (id = *hment_hash_bucket(idx->hash, bucket);
	     id && id != want_id && len++ < limit;
	     id = hm->hm_hashnext) {
		hm = hment_checked(idx, id);
		if (!hm)
			break;
	}
	spin_unlock(lock);
	return id && id == want_id;
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
	if (hment_page_szc(pg) < ht->ht_level)
		hment_fail(t, s, "pfn %#lx: szc %u below level %u\n", pfn,
			   hment_page_szc(pg), ht->ht_level);
	if (entry < HMENT_ENTRIES && hment_htable_shadow(ht, entry) != pfn)
		hment_fail(t, s, "pfn %#lx: htable %#lx entry %u shadows %#lx\n",
			   pfn, ht->ht_pfn, entry, hment_htable_shadow(ht, entry));
	t->mappings++;
}

static void hment_check_list(struct hment_index *idx, struct hment_tally *t,
			     struct seq_buf *s, unsigned long pfn,
			     struct hment_page *pg)
{
	u32 id, prev = 0, share = hment_page_share(pg);
	struct hment_htable *ht;
	unsigned long n = 0;
	struct hment *hm;

	for (id = pg->head; id; prev = id, id = hm->hm_next) {
		if (++n > share) {
			hment_fail(t, s, "pfn %#lx: list longer than share %u\n",
				   pfn, share);
			return;
		}
		hm = hment_checked(idx, id);
		if (!hm) {
			hment_fail(t, s, "pfn %#lx: list holds bad id %#x\n",
				   pfn, id);
			return;
		}
		if (hm->hm_prev != prev)
			hment_fail(t, s, "pfn %#lx: hment %#x links back to %#x, not %#x\n",
				   pfn, id, hm->hm_prev, prev);
		/* that it is this pfn's: its htable's shadow names the pfn */
		ht = hment_ht(idx, hm);
		hment_check_mapping(idx, t, s, pfn, pg, ht, hment_entry(hm));
		if (hment_ht_ours(idx, ht) && !hment_hashed(idx, hm, ht))
			hment_fail(t, s, "pfn %#lx: listed hment not hashed\n",
				   pfn);
	}
	if (n != share)
		hment_fail(t, s, "pfn %#lx: list has %lu hments, share %u\n",
			   pfn, n, share);
	t->listed += n;
}

static void hment_check_record(struct hment_index *idx, struct hment_tally *t,
			       struct seq_buf *s, unsigned long pfn,
			       struct hment_page *pg)
{
	struct hment_htable *ht;

	lockdep_assert_held(hment_page_lockp(idx, pfn));
	hment_verify_hook(idx, true);
	if (!pg->head) {
		if (pg->meta)
			hment_fail(t, s, "pfn %#lx: unmapped record not clear\n",
				   pfn);
		return;
	}
	t->pages_mapped++;
	if (hment_page_embedded(pg)) {
		/* the htable id in the record, checked like an hment's */
		ht = hment_ids_lookup(&idx->ht_ids,
				      pg->head >> HMENT_LEVEL_SHIFT);
		if (!ht || ht->ht_id != pg->head >> HMENT_LEVEL_SHIFT) {
			hment_fail(t, s, "pfn %#lx: embedded mapping names bad htable id %#x\n",
				   pfn, pg->head >> HMENT_LEVEL_SHIFT);
			return;
		}
		hment_check_mapping(idx, t, s, pfn, pg, ht,
				    hment_page_embed_entry(pg));
		return;
	}
	hment_check_list(idx, t, s, pfn, pg);
}

/*
 * A record read without its lock that is all clear is unmapped, or was a
 * moment ago: nothing to check, and no lock to take (most pfns are like
 * that). Any other record is checked under its lock.
 */
static bool hment_record_clear(const struct hment_page *pg)
{
	return !READ_ONCE(pg->head) && !READ_ONCE(pg->meta);
}

/* Each record under its own lock; preemptible between chunks. */
static void hment_check_records(struct hment_index *idx,
				struct hment_tally *t, struct seq_buf *s)
{
	struct hment_page *pg;
	unsigned long pfn;

	for (pfn = 0; pfn < idx->max_pfn; pfn++) {
		pg = hment_page_find(idx, pfn);
		if (!pg) {
			/* the loop's increment lands on the next chunk */
			pfn = hment_records_next(idx, pfn) - 1;
			continue;
		}
		if (!hment_record_clear(pg)) {
			hment_page_lock(idx, pfn);
			hment_check_record(idx, t, s, pfn, pg);
			hment_page_unlock(idx, pfn);
		}
		if ((pfn & (HMENT_CHUNK_PFNS - 1)) == HMENT_CHUNK_PFNS - 1) {
			hment_verify_hook(idx, false);
			cond_resched();
		}
	}
}

/*
 * Wait out every change in flight when the check starts: each holds one
 * list lock. After this, a change the check sees any part of (locked or
 * not) shows in the change count read at the end.
 */
static void hment_wait_changes(struct hment_index *idx)
{
	unsigned int i;

	for (i = 0; i <= idx->mlist_lock_mask; i++) {
		spin_lock(&idx->mlist_locks[i]);
		spin_unlock(&idx->mlist_locks[i]);
		if (!(i % 1024))
			cond_resched();
	}
}

/*
 * Every hashed hment sits in the bucket of its key and names one of our
 * htables (it stays in the hash only while its mapping is indexed, so its
 * htable is alive). Each bucket under its lock, one at a time; chains are
 * bounded by what a sane hash could hold, so a cyclic one cannot hang us.
 * The hash lock array is hash.c's, indexed the same way.
 */
static void hment_check_hash(struct hment_index *idx, struct hment_tally *t,
			     struct seq_buf *s)
{
	unsigned long bucket, len, limit;
	spinlock_t *lock;	/* the bucket's, in hash.c's array */
	struct hment_htable *ht;
	struct hment *hm;
	u32 id;

	limit = hment_stat_read(idx, HMENT_STAT_LIVE_HMENTS) + t->listed +
		HMENT_ENTRIES;
	for (bucket = 0; bucket < idx->hash_size; bucket++) {
		if (!(bucket % 1024))
			cond_resched();
		/* an empty bucket needs no lock, as a clear record */
		if (!READ_ONCE(*hment_hash_bucket(idx->hash, bucket)))
			continue;
		lock = &idx->hash_locks[bucket & idx->hash_lock_mask].lock;
		spin_lock(lock);
		for (id = *hment_hash_bucket(idx->hash, bucket), len = 0; id;
		     id = hm->hm_hashnext) {
			if (++len > limit) {
				hment_fail(t, s, "bucket %lu: chain longer than %lu\n",
					   bucket, limit);
				break;
			}
			hm = hment_checked(idx, id);
			if (!hm) {
				hment_fail(t, s, "bucket %lu: bad id %#x\n",
					   bucket, id);
				break;
			}
			ht = hment_ht(idx, hm);
			if (!hment_ht_ours(idx, ht)) {
				hment_fail(t, s, "bucket %lu: foreign htable\n",
					   bucket);
				continue;
			}
			if (hment_hash_index(idx, ht, hment_entry(hm)) != bucket)
				hment_fail(t, s, "bucket %lu: key hashes elsewhere\n",
					   bucket);
		}
		spin_unlock(lock);
		t->hashed += len;
	}
}

/*
 * Each htable's valid count equals the entries its shadow holds: both
 * change under list locks, so a difference counts only if the index was
 * at rest throughout (see hment_verify()).
 */
static void hment_check_htable(struct hment_tally *t, struct hment_htable *ht)
{
	unsigned int entry, shadowed = 0;

	for (entry = 0; entry < HMENT_ENTRIES; entry++)
		shadowed += hment_htable_shadow(ht, entry) != HMENT_NO_PFN;
	if (shadowed != atomic_read(&ht->ht_valid_cnt) && !t->ht_mismatch++)
		t->ht_example = ht->ht_pfn;
	t->htables++;
	t->stale += test_bit(HMENT_HT_STALE, &ht->ht_flags);
	t->valid += atomic_read(&ht->ht_valid_cnt);
}

/*
 * htables are freed after a grace period: each is read under RCU, which
 * is left now and then to reschedule, between buckets of a hat's hash. A
 * resize of that hash meanwhile (its sequence count moved) may have hidden
 * or repeated some: that hat is tallied again.
 */
static void hment_check_hat_htables(struct hment_hat *hat,
				    struct hment_tally *t)
{
	struct hment_tally before = *t;
	struct hment_htable_hash *h;
	struct hment_htable *ht;
	unsigned int b, n, seq;

again:
	n = 0;
	rcu_read_lock();
	seq = read_seqcount_begin(&hat->ht_hash_seq);
	h = rcu_dereference(hat->ht_hash);
	for (b = 0; b < (1U << h->bits); b++) {
		for (ht = rcu_dereference(h->buckets[b]); ht;
		     ht = rcu_dereference(ht->ht_next)) {
			hment_check_htable(t, ht);
			n++;
		}
		if (n < 64)
			continue;
		n = 0;
		rcu_read_unlock();
		cond_resched();
		rcu_read_lock();
		if (read_seqcount_retry(&hat->ht_hash_seq, seq))
			break;
		/* no resize: the same table, still in use */
		h = rcu_dereference(hat->ht_hash);
	}
	if (read_seqcount_retry(&hat->ht_hash_seq, seq)) {
		rcu_read_unlock();
		*t = before;
		goto again;
	}
	rcu_read_unlock();
}

static void hment_check_htables(struct hment_index *idx,
				struct hment_tally *t)
{
	struct hment_hat *hat;

	lockdep_assert_held(&idx->hats_lock);
	list_for_each_entry(hat, &idx->hats, node)
		hment_check_hat_htables(hat, t);
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

static unsigned long hment_reserve_length(struct hment_index *idx,
					  struct hment_tally *t,
					  struct seq_buf *s)
{
	unsigned long n = 0;
	struct hment *hm;
	u32 id;

	spin_lock(&idx->reserve_lock);
	for (id = idx->reserve_pool; id && n <= idx->reserve_count;
	     id = hm->hm_hashnext) {
		hm = hment_slot_checked(idx, id);
		if (!hm) {
			hment_fail(t, s, "reserve holds bad id %#x\n", id);
			break;
		}
		n++;
	}
	spin_unlock(&idx->reserve_lock);
	return n;
}

/* Counters that only add up when nobody is between two steps. */
static void hment_check_quiet(struct hment_index *idx, struct hment_tally *t,
			      struct seq_buf *s)
{
	long outstanding = hment_stat_read(idx, HMENT_STAT_CACHE_ALLOC) -
			   hment_stat_read(idx, HMENT_STAT_CACHE_FREE);
	unsigned long reserve = hment_reserve_length(idx, t, s);
	unsigned long used;

	if (reserve != READ_ONCE(idx->reserve_count))
		hment_fail(t, s, "reserve holds %lu, count says %u\n", reserve,
			   READ_ONCE(idx->reserve_count));
	if (outstanding != t->listed + reserve)
		hment_fail(t, s, "%ld hments from the cache, %lu listed + %lu in reserve\n",
			   outstanding, t->listed, reserve);
	t->errors += hment_chunks_verify(idx, s, &used);
	if (used != outstanding)
		hment_fail(t, s, "chunks have %lu slots in use, %ld hments from the cache\n",
			   used, outstanding);
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
 * The per-record checks always run; the sums only when no record changed
 * while it looked (see the top of this file).
 *
 * Context: process context; may sleep. Holds one list lock at a time.
 * Return: the number of violations, 0 when all hold.
 */
unsigned long hment_verify(struct hment_index *idx, struct seq_buf *s,
			   bool quiet)
{
	struct hment_tally t = {};
	long changes;

	mutex_lock(&idx->freeze_lock);
	mutex_lock(&idx->hats_lock);
	changes = hment_stat_read(idx, HMENT_STAT_CHANGES);
	/* the count before what it counts; pairs with hment_changing() */
	smp_rmb();
	hment_wait_changes(idx);

	hment_check_records(idx, &t, s);
	hment_check_hash(idx, &t, s);
	hment_check_htables(idx, &t);

	/* a change seen above shows in the count read below */
	smp_rmb();
	changes = hment_stat_read(idx, HMENT_STAT_CHANGES) - changes;
	if (changes && quiet)
		hment_fail(&t, s, "%ld changes during a quiet verify\n", changes);
	if (changes) {
		hment_stat_inc(idx, HMENT_STAT_VERIFY_UNSETTLED);
		goto out;
	}
	if (t.hashed != t.listed)
		hment_fail(&t, s, "%lu hments hashed, %lu listed\n", t.hashed,
			   t.listed);
	if (t.ht_mismatch)
		hment_fail(&t, s, "%lu htables: shadow != valid count, first %#lx\n",
			   t.ht_mismatch, t.ht_example);
	if (t.valid != t.mappings)
		hment_fail(&t, s, "htables count %lu entries, records %lu\n",
			   t.valid, t.mappings);
	hment_check_gauge(idx, &t, s, HMENT_STAT_MAPPINGS, t.mappings);
	hment_check_gauge(idx, &t, s, HMENT_STAT_LIVE_HMENTS, t.listed);
	hment_check_gauge(idx, &t, s, HMENT_STAT_PAGES_MAPPED, t.pages_mapped);
	if (quiet)
		hment_check_quiet(idx, &t, s);
out:
	mutex_unlock(&idx->hats_lock);
	mutex_unlock(&idx->freeze_lock);
	return t.errors;
}
EXPORT_SYMBOL_IF_KUNIT(hment_verify);

#define HMENT_DRIFT_EXAMPLES	5

/**
 * hment_verify_drift - compare the index's counts with the kernel's
 * @idx: index
 * @s: gets the first few pfns that differ, then "drift N of M"
 *
 * Indexed pfns whose count differs from the kernel's right now: expected
 * on a busy system between syncs, unlike a broken invariant.
 *
 * Context: process context; may sleep. Takes one list lock at a time.
 */
void hment_verify_drift(struct hment_index *idx, struct seq_buf *s)
{
	unsigned long pfn, ours, theirs, drift = 0, checked = 0;
	struct hment_page *pg;

	for (pfn = 0; pfn < idx->max_pfn; pfn++) {
		pg = hment_page_find(idx, pfn);
		if (!pg) {
			/* the loop's increment lands on the next chunk */
			pfn = hment_records_next(idx, pfn) - 1;
			continue;
		}
		if (!hment_page_mapped(pg))
			continue;
		checked++;
		ours = hment_mapcnt(idx, pfn);
		theirs = hment_kernel_mapcount(pfn);
		if (ours == theirs)
			continue;
		if (drift++ < HMENT_DRIFT_EXAMPLES)
			seq_buf_printf(s, "drift pfn %#lx hment %lu kernel %lu\n",
				       pfn, ours, theirs);
		if (!(checked % 4096))
			cond_resched();
	}
	seq_buf_printf(s, "drift %lu of %lu\n", drift, checked);
}
