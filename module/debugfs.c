// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/hment/: what the index knows, for root only.
 *
 *   kpagecount	  binary, like /proc/kpagecount: a little-endian u64 per pfn
 *   lookup	  write a pfn, read who maps it
 *   track	  write <pid>, -<pid>, all, -all; read the hats
 *   sync	  write 1 (or "pid <n>") to sync now; read what the last did
 *   walk	  the same, reading the page tables without recording: the
 *		  raw walk benchmarks compare a sync against
 *   stats	  one "name value" per line
 *   histogram	  how many pfns have 1, 2, 3-4, 5-8, ... mappings
 *   reserve_amount, fail_nth, fail_every, fail_sites: read-write knobs
 *   verify	  "ok" or "FAIL" and the violations, then the drift
 *   inject	  race tests only: hold the walker at a point (inject.c)
 *
 * Writes need CAP_SYS_ADMIN; a bad write changes nothing.
 */
#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hment.h"
#include "htable.h"
#include "hat.h"
#include "walker.h"
#include "parse.h"
#include "debugfs.h"
#include "inject.h"

static struct dentry *hment_dir;

/*
 * What the last sync and raw walk did, and the pfn lookup lists: the
 * module's one index's, under its sync_lock.
 */
static struct hment_sync_stats hment_last_sync;
static struct hment_sync_stats hment_last_walk;
static unsigned long hment_lookup_pfn;

/* Debugfs buffers are an allocation site of their own for fault tests. */
static bool hment_debugfs_fail(struct hment_index *idx)
{
	if (!hment_should_fail(&idx->fault, HMENT_FAULT_DEBUGFS))
		return false;
	hment_stat_inc(idx, HMENT_STAT_FAULT_INJECTED);
	return true;
}

/* Longest write any file takes: "-2147483648\n" and change. */
#define HMENT_WRITE_MAX	32

/* Copy a short write in, whole and NUL-terminated. */
static char *hment_write_copy(const char __user *ubuf, size_t count,
			      char *kbuf)
{
	if (!capable(CAP_SYS_ADMIN))
		return ERR_PTR(-EPERM);
	if (!count || count >= HMENT_WRITE_MAX)
		return ERR_PTR(-EINVAL);
	if (copy_from_user(kbuf, ubuf, count))
		return ERR_PTR(-EFAULT);
	kbuf[count] = '\0';
	if (strlen(kbuf) != count)
		return ERR_PTR(-EINVAL);	/* embedded NUL */
	return kbuf;
}

/* The same, stripped of white space: commands and pfns. */
static char *hment_write_string(const char __user *ubuf, size_t count,
				char *kbuf)
{
	char *s = hment_write_copy(ubuf, count, kbuf);

	return IS_ERR(s) ? s : strstrip(s);
}

/*
 * Pids are written and read in the writer's and reader's pid namespaces;
 * a hat keeps the global thread-group id (see hment_pid_from_writer()).
 *
 * A hat's global thread-group id as the reader sees it: 0 when it is not
 * visible from the reader's namespace (or, outside the initial one, gone).
 */
static pid_t hment_pid_for_reader(pid_t global)
{
	struct pid *pid;
	pid_t nr;

	if (!global)
		return 0;		/* the kernel */
	rcu_read_lock();
	pid = find_pid_ns(global, &init_pid_ns);
	if (pid)
		nr = pid_vnr(pid);
	else
		nr = task_active_pid_ns(current) == &init_pid_ns ? global : 0;
	rcu_read_unlock();
	return nr;
}

/* Run @fill into a page-sized buffer and show the result. */
static int hment_show_buf(struct seq_file *m,
			  void (*fill)(struct hment_index *idx,
				       struct seq_buf *s))
{
	struct seq_buf s;
	char *buf;

	if (hment_debugfs_fail(m->private))
		return -ENOMEM;
	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	seq_buf_init(&s, buf, PAGE_SIZE);
	fill(m->private, &s);
	seq_write(m, buf, seq_buf_used(&s));
	kfree(buf);
	return 0;
}

/*
 * A read-write file: name_show() for reads through seq_file, name_write()
 * for writes, the index as private data. (6.1 has no
 * DEFINE_SHOW_STORE_ATTRIBUTE.)
 */
#define HMENT_RW_ATTRIBUTE(name)					\
static int name##_open(struct inode *inode, struct file *file)		\
{									\
	return single_open(file, name##_show, inode->i_private);	\
}									\
static const struct file_operations name##_fops = {			\
	.owner = THIS_MODULE,						\
	.open = name##_open,						\
	.read = seq_read,						\
	.write = name##_write,						\
	.llseek = seq_lseek,						\
	.release = single_release,					\
}

static int stats_show(struct seq_file *m, void *v)
{
	return hment_show_buf(m, hment_stats_print);
}
DEFINE_SHOW_ATTRIBUTE(stats);

/* ---- kpagecount ---- */

static ssize_t kpagecount_read(struct file *file, char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	struct hment_index *idx = file->private_data;
	loff_t end = (loff_t)idx->max_pfn * sizeof(u64);
	size_t done = 0, n, skip;
	unsigned long pfn, i;
	loff_t pos = *ppos;
	__le64 *buf;
	u64 *cnt;

	if (pos < 0)
		return -EINVAL;
	if (pos >= end || !count)
		return 0;
	count = min_t(loff_t, count, end - pos);
	if (hment_debugfs_fail(idx))
		return -ENOMEM;
	buf = (__le64 *)__get_free_page(GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	cnt = (u64 *)buf;

	while (done < count) {
		/* a page of counts at a time, from the u64 holding pos */
		pfn = pos / sizeof(u64);
		skip = pos % sizeof(u64);
		n = min_t(unsigned long, PAGE_SIZE / sizeof(u64),
			  idx->max_pfn - pfn);
		hment_mapcnt_range(idx, pfn, n, cnt);
		for (i = 0; i < n; i++)
			buf[i] = cpu_to_le64(cnt[i]);
		n = min(count - done, n * sizeof(u64) - skip);
		if (copy_to_user(ubuf + done, (char *)buf + skip, n)) {
			if (!done)
				done = -EFAULT;
			break;
		}
		done += n;
		pos += n;
		if (fatal_signal_pending(current))
			break;
		cond_resched();
	}
	free_page((unsigned long)buf);
	if ((ssize_t)done > 0)
		*ppos = pos;
	return done;
}

static const struct file_operations kpagecount_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = kpagecount_read,
	.llseek = default_llseek,
};

/* ---- lookup ---- */

struct hment_hit {
	struct hment_hat *hat;
	unsigned long va;
	unsigned long ptpfn;
	unsigned int entry;
	unsigned int level;
};

struct hment_hits {
	struct hment_hit *hits;
	unsigned long pfn;	/* the page looked up */
	unsigned int n;
	unsigned int cap;
};

/* Records each mapping with its hat held; false when @hits is full. */
static bool hment_collect(void *arg, struct hment_htable *ht,
			  unsigned int entry, unsigned long leader)
{
	struct hment_hits *h = arg;
	unsigned int shift;

	/* keeps the hat, its pid, comm and mm, while we print */
	if (!hment_hat_get(ht->ht_hat))
		return true;
	shift = hment_level_shift(ht->ht_level) - HMENT_LEVEL_SHIFT;
	h->hits[h->n++] = (struct hment_hit) {
		.hat = ht->ht_hat,
		.va = ht->ht_va + ((unsigned long)entry << shift) +
		      ((h->pfn - leader) << PAGE_SHIFT),
		.ptpfn = ht->ht_pfn,
		.entry = entry,
		.level = ht->ht_level,
	};
	return h->n < h->cap;
}

static bool hment_count_hit(void *arg, struct hment_htable *ht,
			    unsigned int entry, unsigned long leader)
{
	return true;
}

/*
 * Reading lookup: the mappings of the pfn written last, collected at the
 * first read, then shown a line at a time, so that a long list fills the
 * reader's buffer page by page instead of being collected and formatted
 * again into a buffer twice the size (as single_open() would).
 */
struct hment_lookup {
	struct hment_index *idx;
	struct hment_hits h;
	bool collected;
};

static int hment_lookup_collect(struct hment_lookup *l)
{
	struct hment_index *idx = l->idx;
	struct hment_hits *h = &l->h;

	mutex_lock(&idx->sync_lock);
	h->pfn = hment_lookup_pfn;
	mutex_unlock(&idx->sync_lock);
	/*
	 * Room for all and a few more that may appear meanwhile: counted
	 * one by one, as hment_mapcnt() counts an entry of a shared table
	 * once however many processes it lists.
	 */
	h->cap = hment_visit_mappings(idx, h->pfn, hment_count_hit, NULL) + 16;
	if (hment_debugfs_fail(idx))
		return -ENOMEM;
	h->hits = kvcalloc(h->cap, sizeof(*h->hits), GFP_KERNEL);
	if (!h->hits)
		return -ENOMEM;
	hment_visit_mappings(idx, h->pfn, hment_collect, h);
	l->collected = true;
	return 0;
}

static void *lookup_start(struct seq_file *m, loff_t *pos)
{
	struct hment_lookup *l = m->private;
	int err;

	if (!l->collected) {
		err = hment_lookup_collect(l);
		if (err)
			return ERR_PTR(err);
	}
	return *pos < l->h.n ? &l->h.hits[*pos] : NULL;
}

static void *lookup_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct hment_lookup *l = m->private;

	++*pos;
	return *pos < l->h.n ? &l->h.hits[*pos] : NULL;
}

static void lookup_stop(struct seq_file *m, void *v)
{
}

/* pid va level comm ptpfn entry name; a path escapes newlines, as maps does */
static int lookup_show(struct seq_file *m, void *v)
{
	const struct hment_hit *hit = v;
	struct hment_hat *hat = hit->hat;
	struct file *file;
	const char *name;

	file = hment_hat_file_va(hat, hit->va, &name);
	seq_printf(m, "%d 0x%lx %u %s %lu %u ",
		   hment_pid_for_reader(hat->pid), hit->va, hit->level,
		   hat->comm, hit->ptpfn, hit->entry);
	if (file) {
		seq_path(m, &file->f_path, "\n");
		fput(file);
	} else {
		seq_puts(m, name);
	}
	seq_putc(m, '\n');
	return 0;
}

static const struct seq_operations lookup_sops = {
	.start = lookup_start,
	.next = lookup_next,
	.stop = lookup_stop,
	.show = lookup_show,
};

static int lookup_open(struct inode *inode, struct file *file)
{
	struct hment_lookup *l;

	l = __seq_open_private(file, &lookup_sops, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->idx = inode->i_private;
	return 0;
}

static int lookup_release(struct inode *inode, struct file *file)
{
	struct hment_lookup *l = ((struct seq_file *)file->private_data)->private;
	unsigned int i;

	for (i = 0; i < l->h.n; i++)
		hment_hat_put(l->h.hits[i].hat);
	kvfree(l->h.hits);
	return seq_release_private(inode, file);
}

static ssize_t lookup_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct hment_index *idx = file_inode(file)->i_private;
	char kbuf[HMENT_WRITE_MAX], *s;
	unsigned long pfn;
	int err;

	s = hment_write_string(ubuf, count, kbuf);
	if (IS_ERR(s))
		return PTR_ERR(s);
	err = hment_parse_pfn(s, idx->max_pfn, &pfn);
	if (err)
		return err;
	mutex_lock(&idx->sync_lock);
	hment_lookup_pfn = pfn;
	mutex_unlock(&idx->sync_lock);
	return count;
}

static const struct file_operations lookup_fops = {
	.owner = THIS_MODULE,
	.open = lookup_open,
	.read = seq_read,
	.write = lookup_write,
	.llseek = seq_lseek,
	.release = lookup_release,
};

/* ---- track ---- */

static int track_show(struct seq_file *m, void *v)
{
	struct hment_index *idx = m->private;
	unsigned long mappings, htables;
	struct hment_hat *hat;

	mutex_lock(&idx->sync_lock);
	seq_printf(m, "# pid comm htables mappings (all %d)\n",
		   idx->track_all);
	list_for_each_entry(hat, &idx->hats, node) {
		if (hat->kernel)
			continue;
		mappings = hment_hat_mappings(hat, &htables);
		seq_printf(m, "%d %s %lu %lu%s\n",
			   hment_pid_for_reader(hat->pid), hat->comm, htables,
			   mappings, READ_ONCE(hat->dead) ? " exited" : "");
	}
	mutex_unlock(&idx->sync_lock);
	return 0;
}

static ssize_t track_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	struct hment_index *idx = file_inode(file)->i_private;
	char kbuf[HMENT_WRITE_MAX], *s;
	struct hment_track_cmd cmd;
	int err;

	s = hment_write_string(ubuf, count, kbuf);
	if (IS_ERR(s))
		return PTR_ERR(s);
	err = hment_parse_track(s, &cmd);
	if (err)
		return err;
	if (mutex_lock_interruptible(&idx->sync_lock))
		return -EINTR;
	err = hment_track_command(idx, &cmd);
	mutex_unlock(&idx->sync_lock);
	return err ? err : count;
}

HMENT_RW_ATTRIBUTE(track);

/* ---- sync and walk ---- */

static void hment_show_sync(struct seq_file *m, struct hment_index *idx,
			    const struct hment_sync_stats *last)
{
	struct hment_sync_stats st;

	mutex_lock(&idx->sync_lock);
	st = *last;
	mutex_unlock(&idx->sync_lock);
	seq_printf(m, "duration_ns %llu\n", st.duration_ns);
	seq_printf(m, "hats %lu\n", st.hats);
	seq_printf(m, "tables %lu\n", st.tables);
	seq_printf(m, "entries %lu\n", st.entries);
	seq_printf(m, "leaves %lu\n", st.leaves);
	seq_printf(m, "expected %lu\n", st.expected);
	seq_printf(m, "added %lu\n", st.added);
	seq_printf(m, "removed %lu\n", st.removed);
	seq_printf(m, "errors %lu\n", st.errors);
	seq_printf(m, "retries %lu\n", st.retries);
}

static int sync_show(struct seq_file *m, void *v)
{
	struct hment_index *idx = m->private;

	hment_show_sync(m, idx, &hment_last_sync);
	return 0;
}

/*
 * "1" syncs everything tracked, "pid <n>" one process. @record false is
 * the raw walk: the same walker reading the same tables, recording nothing.
 */
static ssize_t hment_sync_write(struct file *file, const char __user *ubuf,
				size_t count, bool record)
{
	struct hment_index *idx = file_inode(file)->i_private;
	char kbuf[HMENT_WRITE_MAX], *s;
	struct hment_sync_stats st;
	pid_t pid;
	int err;

	s = hment_write_string(ubuf, count, kbuf);
	if (IS_ERR(s))
		return PTR_ERR(s);
	err = hment_parse_sync(s, &pid);
	if (err)
		return err;
	if (pid) {
		pid = hment_pid_from_writer(pid);
		err = pid ? hment_sync_pid(idx, pid, &st, record) : -ESRCH;
	} else {
		err = hment_sync_all(idx, &st, record);
	}
	if (err)
		return err;
	mutex_lock(&idx->sync_lock);
	if (record)
		hment_last_sync = st;
	else
		hment_last_walk = st;
	mutex_unlock(&idx->sync_lock);
	return count;
}

static ssize_t sync_write(struct file *file, const char __user *ubuf,
			  size_t count, loff_t *ppos)
{
	return hment_sync_write(file, ubuf, count, true);
}

HMENT_RW_ATTRIBUTE(sync);

static int walk_show(struct seq_file *m, void *v)
{
	struct hment_index *idx = m->private;

	hment_show_sync(m, idx, &hment_last_walk);
	return 0;
}

static ssize_t walk_write(struct file *file, const char __user *ubuf,
			  size_t count, loff_t *ppos)
{
	return hment_sync_write(file, ubuf, count, false);
}

HMENT_RW_ATTRIBUTE(walk);

/* ---- histogram ---- */

static int histogram_show(struct seq_file *m, void *v)
{
	struct hment_index *idx = m->private;
	unsigned long *hist, lo;
	unsigned int b;

	if (hment_debugfs_fail(idx))
		return -ENOMEM;
	hist = kcalloc(HMENT_HIST_BUCKETS, sizeof(*hist), GFP_KERNEL);
	if (!hist)
		return -ENOMEM;
	hment_stats_histogram(idx, hist);
	for (b = 0; b < HMENT_HIST_BUCKETS; b++) {
		if (!hist[b])
			continue;
		lo = b ? (1UL << (b - 1)) + 1 : 1;
		if (lo == 1UL << b)
			seq_printf(m, "%lu %lu\n", lo, hist[b]);
		else
			seq_printf(m, "%lu-%lu %lu\n", lo, 1UL << b, hist[b]);
	}
	kfree(hist);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(histogram);

/* ---- knobs ---- */

/*
 * A knob takes a number as kstrtoull() reads it (base 0, one trailing
 * newline), the whole write of it: unlike the kernel's simple attributes,
 * which stop at a NUL or after 23 bytes, so that "1\0002" would set 1.
 */
static int hment_write_knob(const char __user *ubuf, size_t count, u64 max,
			    u64 *val)
{
	char kbuf[HMENT_WRITE_MAX], *s;
	int err;

	s = hment_write_copy(ubuf, count, kbuf);
	if (IS_ERR(s))
		return PTR_ERR(s);
	err = kstrtoull(s, 0, val);
	if (err)
		return err;
	return *val > max ? -ERANGE : 0;
}

/*
 * A read-write knob: @get reads it, @set (after the range check against
 * @max) changes it, @fmt prints it.
 */
#define HMENT_KNOB(name, max, fmt, get, set)				\
static int name##_show(struct seq_file *m, void *v)			\
{									\
	struct hment_index *idx = m->private;				\
									\
	seq_printf(m, fmt "\n", (get));					\
	return 0;							\
}									\
static ssize_t name##_write(struct file *file, const char __user *ubuf, \
			    size_t count, loff_t *ppos)			\
{									\
	struct hment_index *idx = file_inode(file)->i_private;		\
	u64 val;							\
	int err = hment_write_knob(ubuf, count, (max), &val);		\
									\
	if (err)							\
		return err;						\
	set;								\
	return count;							\
}									\
HMENT_RW_ATTRIBUTE(name)

static void hment_set_reserve_amount(struct hment_index *idx, u64 val)
{
	WRITE_ONCE(idx->reserve_amount, val);
	hment_adjust_reserve(idx);
	hment_reserve(idx, 0);
}

/* bounded by RAM: a fill of INT_MAX hments would call the OOM killer */
HMENT_KNOB(reserve_amount, hment_reserve_max(), "%u",
	   READ_ONCE(idx->reserve_amount),
	   hment_set_reserve_amount(idx, val));
HMENT_KNOB(fail_nth, INT_MAX, "%d", atomic_read(&idx->fault.nth),
	   atomic_set(&idx->fault.nth, val));
HMENT_KNOB(fail_every, INT_MAX, "%d", atomic_read(&idx->fault.every),
	   atomic_set(&idx->fault.every, val));
/* 0 stands for every site */
HMENT_KNOB(fail_sites, HMENT_FAULT_ALL_SITES, "%#x",
	   atomic_read(&idx->fault.sites), atomic_set(&idx->fault.sites, val));

/* ---- verify ---- */

static int verify_show(struct seq_file *m, void *v)
{
	struct hment_index *idx = m->private;
	unsigned long errors;
	struct seq_buf found;
	char *buf;

	if (hment_debugfs_fail(idx))
		return -ENOMEM;
	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	seq_buf_init(&found, buf, PAGE_SIZE);
	errors = hment_verify(idx, &found, false);
	if (errors)
		seq_printf(m, "FAIL\n%lu violations\n", errors);
	else
		seq_puts(m, "ok\n");
	seq_write(m, buf, seq_buf_used(&found));
	seq_buf_init(&found, buf, PAGE_SIZE);
	hment_verify_drift(idx, &found);
	seq_write(m, buf, seq_buf_used(&found));
	kfree(buf);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(verify);

/* ---- inject: the walker's window-widening hook ---- */

static int inject_show(struct seq_file *m, void *v)
{
	hment_inject_show(m);
	return 0;
}

static ssize_t inject_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	char kbuf[HMENT_WRITE_MAX], *s;
	int err;

	s = hment_write_string(ubuf, count, kbuf);
	if (IS_ERR(s))
		return PTR_ERR(s);
	err = hment_inject_command(s);
	return err ? err : count;
}

HMENT_RW_ATTRIBUTE(inject);

/**
 * hment_debugfs_init - create /sys/kernel/debug/hment/ for @idx
 * @idx: the module's index
 */
void hment_debugfs_init(struct hment_index *idx)
{
	hment_dir = debugfs_create_dir("hment", NULL);
	debugfs_create_file("kpagecount", 0400, hment_dir, idx,
			    &kpagecount_fops);
	debugfs_create_file("lookup", 0600, hment_dir, idx, &lookup_fops);
	debugfs_create_file("track", 0600, hment_dir, idx, &track_fops);
	debugfs_create_file("sync", 0600, hment_dir, idx, &sync_fops);
	debugfs_create_file("walk", 0600, hment_dir, idx, &walk_fops);
	debugfs_create_file("stats", 0400, hment_dir, idx, &stats_fops);
	debugfs_create_file("histogram", 0400, hment_dir, idx,
			    &histogram_fops);
	debugfs_create_file("reserve_amount", 0600, hment_dir, idx,
			    &reserve_amount_fops);
	debugfs_create_file("fail_nth", 0600, hment_dir, idx, &fail_nth_fops);
	debugfs_create_file("fail_every", 0600, hment_dir, idx,
			    &fail_every_fops);
	debugfs_create_file("fail_sites", 0600, hment_dir, idx,
			    &fail_sites_fops);
	debugfs_create_file("verify", 0400, hment_dir, idx, &verify_fops);
	debugfs_create_file("inject", 0600, hment_dir, idx, &inject_fops);
}

/**
 * hment_debugfs_exit - remove /sys/kernel/debug/hment/
 */
void hment_debugfs_exit(void)
{
	debugfs_remove_recursive(hment_dir);
}
