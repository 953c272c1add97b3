// SPDX-License-Identifier: GPL-2.0
/*
 * hment-stress races [--seconds N] [--seed N] [--only 'NAME ...']: the
 * walker's races with a live kernel (issue 9); the timed tests share the
 * N seconds (default 30), at least a few rounds each:
 *
 *  reap      an exited process leaves `track` at the next `sync pid` of
 *            another process, and within 2 s with no sync at all;
 *  converge  a process holds 16M it touched once and purges 4K pages
 *            elsewhere with MADV_DONTNEED without pause, as allocators do;
 *            after every single `sync pid` all of its stable pages are
 *            indexed (hment's kpagecount equals /proc/kpagecount for each);
 *  thp       three threads fault, zap, split, partly zap and remap THPs
 *            and one purges 4K pages, while the parent syncs the process;
 *            after each sync no pfn they mapped just before a change
 *            made while it ran counts more in hment than in
 *            /proc/kpagecount (a leaf
 *            recorded after it was gone), and
 *            every minute and at the end no pfn of RAM does;
 *  collapse  a shmem (memfd), then a tmpfs file: one 2M chunk after
 *            another is punched, written again in small pages and
 *            collapsed by MADV_COLLAPSE in one process, which retracts the
 *            other mapper's PTE table of the chunk as well (with no mmap
 *            lock there), while khugepaged runs at full speed and the
 *            parent syncs both; after each sync no pfn a punch or a
 *            collapse let go of is over-counted, and every minute and at
 *            the end no pfn of RAM is and every page of both is indexed
 *            after one sync. Skipped where the kernel
 *            has no MADV_COLLAPSE;
 *  hugetlb   two processes map a hugetlb file over whole 1G regions at the
 *            same addresses, so the second to fault shares the first's
 *            PMD tables, then punch the file (unsharing the tables in all
 *            but the last) and unmap (freeing them), over and over, while
 *            the parent syncs both: no over-count after each sync, the
 *            sharing seen through hment's lookup, and on the debug kernels
 *            KASAN catches a walker reading a freed table. A page two
 *            processes map through one entry of a shared table counts
 *            once, as in the kernel (those over-counted only so are
 *            also counted apart in the figures);
 *  leafwin   the walker held (debugfs `inject`) after reading a THP's PMD
 *            while the THP is zapped or split: hment never above the
 *            kernel, lookup names only what pagemap shows (issue 9 item 2);
 *  pudwin    leafwin for a 1G hugetlb page's PUD leaf, zapped, punched or
 *            unmapped (that one waits for the walker): each pfn of it
 *            counted as the kernel counts it, lookup as pagemap shows;
 *            needs a 1G page (scripts/stress --1g), skipped without;
 *  sharewin  the walker held after reading the PUD of a hugetlb PMD table
 *            shared by two processes, while the other punches the file
 *            and unmaps (freeing the table): KASAN sees no read of a freed
 *            table, the shared pages count once (issue 9 item 7);
 *  ptewin    the walker held after reading the PMD of a PTE table while
 *            another mapper's MADV_COLLAPSE retracts and frees it: KASAN
 *            sees no lock of a freed table, the pages indexed exactly
 *            (issue 9 item 1).
 *
 * Mismatches are counted at first look, then the pfn is read again (the
 * kernel's count first, then hment's: between the two, hment can only
 * lose mappings). Every first-look mismatch fails: at a quiescent point
 * nothing may move.
 */
#include "stress.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/membarrier.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif

#define STABLE_PAGES	4096	/* 16M */
#define PURGE_PAGES	64
#define NTHP		6	/* two per zapper thread */
#define COLLAPSE_MB	8
#define NPARK		4
#define THP_KNOB	"/sys/kernel/mm/transparent_hugepage/"
#define RACE_TMPFS	"/tmp/hment-races"

/* One MAP_SHARED page: what the parent tells its children, and back. */
struct race_shared {
	int stop;
	int pause;
	int parked[NPARK];
	int ready;
	unsigned long ops, purges;
};

static struct race_shared *rs;
static unsigned long collapse_syncs, collapse_sync_err, collapse_points;
static unsigned long collapse_lost, collapses;

static void *xmmap_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

/* @len bytes at a 2M boundary, from an anonymous or file mapping. */
static char *map_aligned(size_t len, int prot, int flags, int fd)
{
	char *p = mmap(NULL, len + HPAGE, prot, flags, fd, 0), *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((unsigned long)p + HPAGE - 1) & ~(HPAGE - 1));
	munmap(p, a - p);
	munmap(a + len, p + len + HPAGE - (a + len));
	if (fd >= 0) {
		/* the file's offset 0 must sit at the 2M boundary */
		munmap(a, len);
		a = mmap(a, len, prot, flags | MAP_FIXED, fd, 0);
		if (a == MAP_FAILED)
			return NULL;
	}
	return a;
}

/* A child's checkpoint: park while the parent looks. */
static void park(int slot)
{
	if (!__atomic_load_n(&rs->pause, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&rs->parked[slot], 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&rs->pause, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&rs->stop, __ATOMIC_RELAXED))
		sleep_ms(1);
	__atomic_store_n(&rs->parked[slot], 0, __ATOMIC_RELEASE);
}

/* Stop the children named in @mask at their checkpoints. */
static bool pause_all(unsigned int mask)
{
	double t0 = now();
	int i;

	__atomic_store_n(&rs->pause, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NPARK; i++) {
		if (!(mask & (1U << i)))
			continue;
		while (!__atomic_load_n(&rs->parked[i], __ATOMIC_ACQUIRE)) {
			if (now() - t0 > 60)
				return false;
			sleep_ms(1);
		}
	}
	return true;
}

static void resume_all(void)
{
	__atomic_store_n(&rs->pause, 0, __ATOMIC_RELEASE);
}

static int sync_pid(pid_t pid)
{
	char cmd[32];

	snprintf(cmd, sizeof(cmd), "pid %d", pid);
	return hm_write_str("sync", cmd);
}

static void track(pid_t pid)
{
	char cmd[16];

	snprintf(cmd, sizeof(cmd), "%d", pid);
	hm_write_str("track", cmd);	/* EEXIST when tracked at load */
}

static void stop_child(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void stop_children(pid_t *pids, int n)
{
	__atomic_store_n(&rs->stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < n; i++)
		stop_child(pids[i]);
	memset(rs, 0, sizeof(*rs));
}

struct mismatch {
	unsigned long first, persist, checked;
	bool shared_ok;		/* tell apart a shared PMD table's entries */
	unsigned long shared;	/* over-counts by one per mm sharing it */
};

/* One mapping hment's lookup names: "pid 0xVA level comm ptpfn entry name". */
struct lookup_row {
	int pid;
	unsigned long va, ptpfn;
	unsigned int level, entry;
};

/*
 * hment's lookup of @pfn, up to @max rows with at least @fields of the
 * five leading fields read (2: pid and address; 5: the table's pfn and
 * entry too).
 */
static unsigned int lookup_rows(u64 pfn, struct lookup_row *r,
				unsigned int max, int fields)
{
	static char out[16384];
	char cmd[32], *line, *save;
	unsigned int n = 0;

	snprintf(cmd, sizeof(cmd), "%llu", (unsigned long long)pfn);
	if (hm_write_str("lookup", cmd) || hm_read("lookup", out, sizeof(out)) < 0)
		return 0;
	for (line = strtok_r(out, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%d 0x%lx %u %*s %lu %u", &r[n].pid, &r[n].va,
			   &r[n].level, &r[n].ptpfn, &r[n].entry) >= fields)
			n++;
	return n;
}

/* hment's count of a pfn against the kernel's, kernel first. */
static void compare_pfn(int kfd, int hfd, u64 pfn, bool over_only,
			struct mismatch *m, const char *what)
{
	u64 k = 0, h = 0;

	m->checked++;
	if (pread(kfd, &k, 8, pfn * 8) != 8 || pread(hfd, &h, 8, pfn * 8) != 8)
		return;
	if (over_only ? h <= k : h == k)
		return;
	m->first++;
	if (pread(kfd, &k, 8, pfn * 8) != 8 || pread(hfd, &h, 8, pfn * 8) != 8)
		return;
	if (over_only ? h > k : h != k)
		m->persist++;
	if (m->first <= 5)
		tap_diag("  %s pfn %#llx: hment %llu, kernel %llu", what,
			 (unsigned long long)pfn, (unsigned long long)h,
			 (unsigned long long)k);
}

static int open_counts(int *kfd, int *hfd)
{
	*kfd = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	*hfd = hm_open("kpagecount", O_RDONLY);
	if (*kfd < 0 || *hfd < 0) {
		if (*kfd >= 0)
			close(*kfd);
		if (*hfd >= 0)
			close(*hfd);
		return -1;
	}
	return 0;
}

/*
 * The pfns [@first, @end), read in blocks, kernel then hment: hment above
 * the kernel (@over_only) or different from it.
 */
static void compare_pfns(u64 first, u64 end, bool over_only,
			 struct mismatch *m, const char *what)
{
	static u64 kb[4096], hb[4096];
	u64 pfn;
	int kfd, hfd;

	if (first >= end || open_counts(&kfd, &hfd)) {
		m->first++;
		return;
	}
	for (pfn = first; pfn < end; pfn += 4096) {
		size_t n = end - pfn < 4096 ? end - pfn : 4096;
		ssize_t kn = pread(kfd, kb, n * 8, pfn * 8);
		ssize_t hn = pread(hfd, hb, n * 8, pfn * 8);

		if (kn <= 0 || hn <= 0)
			break;
		n = (size_t)(kn < hn ? kn : hn) / 8;
		m->checked += n;
		for (size_t i = 0; i < n; i++) {
			if (over_only ? hb[i] <= kb[i] : hb[i] == kb[i])
				continue;
			m->checked--;
			compare_pfn(kfd, hfd, pfn + i, over_only, m, what);
		}
	}
	close(kfd);
	close(hfd);
}

/* Over-counted pfns of all RAM. */
static void compare_all_over(struct mismatch *m)
{
	compare_pfns(0, hm_max_pfn(), true, m, "over-count");
}

/*
 * The counts of pfns [@blk * 512, + 512), the kernel's first; false when
 * pfn @j of them is past the end or a read fails.
 */
static bool read_counts(int kfd, int hfd, u64 blk, u64 *kb,
			u64 *hb, unsigned int j)
{
	ssize_t need = (ssize_t)j * 8;

	return pread(kfd, kb, PAGE, blk * PAGE) > need &&
	       pread(hfd, hb, PAGE, blk * PAGE) > need;
}

/*
 * Every present page of [p, p + len) in @pid: hment equals the kernel.
 * Counts are read a page of them (512 pfns) at a time, kernel first:
 * hment fills a whole page of counts for any read of kpagecount, tens of
 * milliseconds on a debug kernel, so a read per pfn took minutes.
 */
static unsigned long compare_range(pid_t pid, const char *p, size_t len,
				   struct mismatch *m, const char *what)
{
	static u64 e[HPAGE / PAGE], kb[PAGE / 8], hb[PAGE / 8];
	unsigned long pages = 0;
	u64 blk = UINT64_MAX, pfn;
	char path[64];
	int kfd, hfd, pm;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pm = open(path, O_RDONLY | O_CLOEXEC);
	if (pm < 0 || open_counts(&kfd, &hfd)) {
		m->first++;
		if (pm >= 0)
			close(pm);
		return 0;
	}
	for (size_t off = 0; off < len; off += PAGE) {
		size_t i = off / PAGE % (HPAGE / PAGE);

		if (!i && pread(pm, e, sizeof(e),
				((unsigned long)p + off) / PAGE * 8) <= 0)
			memset(e, 0, sizeof(e));
		if (!(e[i] & PM_PRESENT))
			continue;
		pages++;
		pfn = e[i] & PM_PFN_MASK;
		if (pfn / (PAGE / 8) != blk) {
			blk = pfn / (PAGE / 8);
			if (!read_counts(kfd, hfd, blk, kb, hb,
					 pfn % (PAGE / 8))) {
				blk = UINT64_MAX;
				m->first++;
				continue;
			}
		}
		if (hb[pfn % (PAGE / 8)] == kb[pfn % (PAGE / 8)]) {
			m->checked++;
			continue;
		}
		compare_pfn(kfd, hfd, pfn, false, m, what);
	}
	close(pm);
	close(kfd);
	close(hfd);
	return pages;
}

/* ---- converge ---- */

/* Long diagnostic formats are #defines, too long to share a call's line. */
#define CONVERGE_DIAG	"converge: sync %lu left %lu of %lu stable pages unindexed (%lu still after a second look)"

/*
 * What an allocator does: give pages back without end, most of them free
 * already, now and then one it used.
 */
static bool purge_yield;	/* leave the CPU to others after each */

static void *purger(void *arg)
{
	char *purge = arg;

	for (unsigned long i = 0;; i++) {
		char *pg = purge + (i % (PURGE_PAGES / 2)) * PAGE;

		if (!(i % 64))
			*pg = 1;
		madvise(pg, PAGE, MADV_DONTNEED);
		if (purge_yield)
			sched_yield();
		__atomic_add_fetch(&rs->purges, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Two purging threads, one per CPU of the test box, around the syncs. */
static void converge_child(char *stable, char *purge)
{
	pthread_t t;

	for (size_t off = 0; off < STABLE_PAGES * PAGE; off += PAGE)
		stable[off] = 1;
	__atomic_store_n(&rs->ready, 1, __ATOMIC_RELEASE);
	if (pthread_create(&t, NULL, purger, purge))
		_exit(1);
	purger(purge + PURGE_PAGES / 2 * PAGE);
}

/* One figure of the sync file, -1 if absent. */
static long sync_figure(const char *name)
{
	char buf[1024];

	if (hm_read("sync", buf, sizeof(buf)) < 0)
		return -1;
	return hm_stat(buf, name);
}

static void race_converge(double seconds)
{
	size_t len = STABLE_PAGES * PAGE;
	unsigned long rounds = 0, bad_rounds = 0, worst = 0, pages = 0;
	unsigned long retries = 0;
	struct mismatch total = { 0 };
	char *stable, *purge;
	double t0 = now();
	pid_t child;

	stable = map_aligned(len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1);
	purge = map_aligned(PURGE_PAGES * PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1);
	if (!stable || !purge) {
		tap_ok(false, "converge: mmap: %s", strerror(errno));
		return;
	}
	madvise(stable, len, MADV_NOHUGEPAGE);
	madvise(purge, PURGE_PAGES * PAGE, MADV_NOHUGEPAGE);
	child = fork();
	if (!child)
		converge_child(stable, purge);
	while (!__atomic_load_n(&rs->ready, __ATOMIC_ACQUIRE))
		sleep_ms(1);
	track(child);
	do {
		struct mismatch m = { 0 };
		int err = sync_pid(child);

		if (err) {
			tap_diag("converge: sync pid %d: %s", child,
				 errname(-err));
			bad_rounds++;
			break;
		}
		retries += sync_figure("retries");
		pages = compare_range(child, stable, len, &m, "converge");
		rounds++;
		if (m.first || pages != STABLE_PAGES) {
			bad_rounds++;
			if (bad_rounds <= 3)
				tap_diag(CONVERGE_DIAG, rounds, m.first, pages,
					 m.persist);
		}
		worst = m.first > worst ? m.first : worst;
		total.first += m.first;
		total.persist += m.persist;
	} while (now() - t0 < seconds || rounds < 3);
	stop_child(child);
	tap_diag("converge: %lu syncs, %lu table passes retried, %lu purges meanwhile",
		 rounds, retries, (unsigned long)rs->purges);
	tap_ok(!bad_rounds && rounds,
	       "converge: after each of %lu syncs all %d stable pages are indexed while 4K pages are purged elsewhere (%lu syncs short, worst %lu pages; first-look %lu, persisting %lu)",
	       rounds, STABLE_PAGES, bad_rounds, worst, total.first,
	       total.persist);
	memset(rs, 0, sizeof(*rs));
	munmap(stable, len);
	munmap(purge, PURGE_PAGES * PAGE);
}

/* ---- pages a child let go of, checked after each sync ---- */

/*
 * Runs of pfns a child mapped just before it zapped, split, punched or
 * collapsed them: after each sync returns, none of them may count more
 * in hment than in the kernel. A walker that records a leaf or a table
 * after it is gone is caught at that sync, not only if a random check
 * happens to follow it. The children need not stop for it: with no sync
 * running hment only loses mappings, so a pfn read in the kernel first
 * and in hment then is never above unless hment claims a mapping the
 * kernel did not have. A ring: the children push, the parent reads on
 * from where it stopped.
 */
#define RUNS		8192
#define RUNS_IN_FLIGHT	8	/* pushed, their change maybe not yet made */
#define FULL_EVERY	60	/* s between checks of all RAM */

struct pfn_runs {
	unsigned long n;	/* pushed in all */
	struct {
		unsigned long seq;	/* its index + 1 once written */
		u64 pfn;
		u32 len;
	} run[RUNS];
};

static struct pfn_runs *runs;
static unsigned long runs_done;	/* the parent's place in the ring */

static void runs_push(u64 pfn, unsigned int len)
{
	unsigned long i = __atomic_fetch_add(&runs->n, 1, __ATOMIC_RELAXED);

	runs->run[i % RUNS].pfn = pfn;
	runs->run[i % RUNS].len = len;
	__atomic_store_n(&runs->run[i % RUNS].seq, i + 1, __ATOMIC_RELEASE);
}

/* Start reading at what is pushed from now on. */
static void runs_skip(void)
{
	runs_done = __atomic_load_n(&runs->n, __ATOMIC_ACQUIRE);
}

/*
 * A sync starts: only what changes while one runs can be recorded after
 * it is gone, so the check after it reads the runs pushed from now (and
 * the last few before, whose change may still be under way) to its end,
 * and skips what was pushed while no sync ran: on a debug kernel a read
 * of 512 counts takes tens of milliseconds.
 */
static void runs_sync_starts(void)
{
	unsigned long n = __atomic_load_n(&runs->n, __ATOMIC_ACQUIRE);

	if (n - runs_done > RUNS_IN_FLIGHT)
		runs_done = n - RUNS_IN_FLIGHT;
}

static unsigned long runs_end(void)
{
	return __atomic_load_n(&runs->n, __ATOMIC_ACQUIRE);
}

/*
 * What this process maps at [p, p + 2M), read from @pm, as runs of at
 * least @min pages (16: the pieces of THPs, not scattered small pages).
 */
static void push_mapped(int pm, const char *p, unsigned int min)
{
	u64 e[HPAGE / PAGE], start = 0, pfn;
	unsigned int len = 0;

	if (pread(pm, e, sizeof(e), (unsigned long)p / PAGE * 8) !=
	    (ssize_t)sizeof(e))
		return;
	for (size_t i = 0; i <= HPAGE / PAGE; i++) {
		bool present = i < HPAGE / PAGE && (e[i] & PM_PRESENT);

		pfn = present ? e[i] & PM_PFN_MASK : 0;
		if (present && len && pfn == start + len) {
			len++;
			continue;
		}
		if (len >= min)
			runs_push(start, len);
		len = present;
		start = pfn;
	}
}

/*
 * The page-table entries hment names for @pfn, each counted once: two
 * processes sharing a hugetlb PMD table (huge_pmd_share()) map a page
 * through one entry, which the kernel counts once and hment once per
 * process.
 */
static unsigned long distinct_entries(u64 pfn)
{
	struct lookup_row r[16];
	unsigned long n, d = 0;

	n = lookup_rows(pfn, r, 16, 5);
	for (unsigned long i = 0; i < n; i++) {
		unsigned long j;

		for (j = 0; j < i; j++)
			if (r[j].ptpfn == r[i].ptpfn && r[j].entry == r[i].entry)
				break;
		d += j == i;
	}
	return d;
}

/*
 * Every pfn pushed from the last call's end (or runs_sync_starts()) to
 * @end, kernel first: none above /proc/kpagecount.
 * Return: how many runs were overwritten unread.
 */
static unsigned long check_runs(struct mismatch *m, const char *what,
				unsigned long end)
{
	static u64 kb[PAGE / 8], hb[PAGE / 8];
	unsigned long lost = 0, i;
	u64 blk = UINT64_MAX;
	int kfd, hfd;

	if (end - runs_done > RUNS) {
		lost = end - runs_done - RUNS;
		runs_done = end - RUNS;
	}
	if (open_counts(&kfd, &hfd)) {
		m->first++;
		return lost;
	}
	for (i = runs_done; i < end; i++) {
		u64 pfn = runs->run[i % RUNS].pfn;
		unsigned int len = runs->run[i % RUNS].len;

		/* still being written: the next call reads it */
		if (__atomic_load_n(&runs->run[i % RUNS].seq,
				    __ATOMIC_ACQUIRE) != i + 1)
			break;
		/* a page of counts at a time (see compare_range()) */
		for (u64 p = pfn; p < pfn + len; p++) {
			unsigned int j = p % (PAGE / 8);

			if (p / (PAGE / 8) != blk) {
				blk = p / (PAGE / 8);
				if (!read_counts(kfd, hfd, blk, kb, hb, j)) {
					blk = UINT64_MAX;
					m->first++;
					continue;
				}
			}
			/* told apart in the figures, failed all the same */
			if (hb[j] > kb[j] && m->shared_ok &&
			    distinct_entries(p) <= kb[j])
				m->shared++;
			if (hb[j] > kb[j]) {
				compare_pfn(kfd, hfd, p, true, m, what);
				continue;
			}
			m->checked++;
		}
	}
	runs_done = i;
	close(kfd);
	close(hfd);
	return lost;
}

/* ---- thp ---- */

#define THP_THREADS	3	/* zappers: more than the test box's CPUs */
#define THP_PARKED	(((1U << THP_THREADS) - 1) << 1)	/* their slots */
#define THP_DIAG	"thp: %lu syncs (%lu failed, %.0f ms each), %lu THP operations, %lu purges, %lu runs overwritten unchecked, all of RAM %lu times"

static void fault_in(char *t, int v)
{
	for (size_t off = 0; off < HPAGE; off += PAGE)
		t[off] = v;
}

struct zapper {
	char *base;
	int slot;		/* 1..THP_THREADS: its THPs are every third */
	u64 rng;
};

/*
 * THPs of its own slots faulted, zapped, split, partly zapped and
 * remapped; what each mapped just before is pushed for the check.
 */
static void *thp_zapper(void *arg)
{
	struct zapper *z = arg;
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (pm < 0)
		_exit(1);
	for (;;) {
		int s;

		park(z->slot);
		s = z->slot - 1 + THP_THREADS *
			rng_below(&z->rng, NTHP / THP_THREADS);
		char *t = z->base + s * HPAGE;
		size_t pg = rng_below(&z->rng, HPAGE / PAGE) * PAGE;

		push_mapped(pm, t, 16);
		switch (rng_below(&z->rng, 8)) {
		case 0:		/* zap the THP, refault a new one */
		case 1:
		case 2:
		case 3:
			madvise(t, HPAGE, MADV_DONTNEED);
			fault_in(t, 2);
			break;
		case 4:		/* split the PMD: one page read-only */
			mprotect(t + pg, PAGE, PROT_READ);
			mprotect(t + pg, PAGE, PROT_READ | PROT_WRITE);
			break;
		case 5:		/* zap one 4K page of it: splits it */
			madvise(t + pg, PAGE, MADV_DONTNEED);
			t[pg] = 3;
			break;
		case 6:		/* a new VMA in its place */
			mmap(t, HPAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			madvise(t, HPAGE, MADV_HUGEPAGE);
			fault_in(t, 4);
			break;
		default:	/* zap it and leave it empty a while */
			madvise(t, HPAGE, MADV_DONTNEED);
			break;
		}
		__atomic_add_fetch(&rs->ops, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * A thread purges 4K pages elsewhere meanwhile, as allocators do: the
 * syncs' passes race with invalidations all the time, and every undone
 * pass must read its leaf again rather than record what it read first.
 */
static void thp_child(char *base, u64 seed)
{
	char *purge = map_aligned(PURGE_PAGES * PAGE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1);
	struct zapper z[THP_THREADS];
	pthread_t t;

	/* invalidations all the time, the CPUs left to the zappers */
	purge_yield = true;
	if (!purge || pthread_create(&t, NULL, purger, purge))
		_exit(1);
	for (int s = 0; s < NTHP; s++)
		memset(base + s * HPAGE, 1, HPAGE);
	__atomic_store_n(&rs->ready, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < THP_THREADS; i++) {
		z[i].base = base;
		z[i].slot = 1 + i;
		z[i].rng = rng_next(&seed) | 1;
		if (i + 1 < THP_THREADS &&
		    pthread_create(&t, NULL, thp_zapper, &z[i]))
			_exit(1);
	}
	thp_zapper(&z[THP_THREADS - 1]);
}

/*
 * The parent syncs the child while its zappers run, then parks them and
 * checks every page they let go of meanwhile; every few seconds, all of
 * RAM.
 */
static void race_thp(double seconds, u64 seed)
{
	unsigned long points = 0, syncs = 0, sync_err = 0, lost = 0, fulls = 0;
	size_t len = NTHP * HPAGE;
	double sync_s = 0;
	struct mismatch m = { 0 };
	double t0 = now(), full = t0;
	pid_t kid;
	char *base;

	base = map_aligned(len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1);
	if (!base || madvise(base, len, MADV_HUGEPAGE)) {
		tap_ok(false, "thp: mmap/madvise: %s", strerror(errno));
		return;
	}
	runs_skip();
	kid = fork();
	if (!kid)
		thp_child(base, seed);
	while (!__atomic_load_n(&rs->ready, __ATOMIC_ACQUIRE))
		sleep_ms(1);
	track(kid);
	do {
		double ts = now();

		runs_sync_starts();
		if (sync_pid(kid))
			sync_err++;
		syncs++;
		sync_s += now() - ts;
		/*
		 * The checks at a quiescent point: the zappers parked. Also
		 * keeps /proc/kpagecount from reading a THP while it is
		 * freed: 6.12's kpagecount_read() tests folio_test_large()
		 * and then folio_entire_mapcount() asserts it again, with no
		 * reference held (VM_BUG_ON_FOLIO on a CONFIG_DEBUG_VM
		 * kernel; seen once in a 10-minute run).
		 */
		if (!pause_all(THP_PARKED)) {
			tap_diag("thp: zappers did not park");
			m.first++;
			break;
		}
		lost += check_runs(&m, "thp over-count", runs_end());
		points++;
		/* all of RAM: 30 s or more on a debug kernel, so seldom */
		if (now() - full > FULL_EVERY || now() - t0 >= seconds) {
			compare_all_over(&m);
			full = now();
			fulls++;
		}
		resume_all();
	} while (now() - t0 < seconds || points < 3);
	tap_diag(THP_DIAG, syncs, sync_err, sync_s * 1000 / (syncs ?: 1),
		 (unsigned long)rs->ops, (unsigned long)rs->purges, lost,
		 fulls);
	tap_ok(!m.first && points && !sync_err,
	       "thp: after each of %lu syncs no pfn the THPs let go of is above /proc/kpagecount, nor any of RAM (%lu pfns compared; first-look %lu, persisting %lu)",
	       points, m.checked, m.first, m.persist);
	stop_child(kid);
	memset(rs, 0, sizeof(*rs));
	munmap(base, len);
}

/* ---- collapse ---- */

#define COLLAPSE_DIAG	"collapse: %lu syncs (%lu failed), %lu MADV_COLLAPSEs, %ld THPs collapsed in all, %lu kB PMD-mapped at the checks, %lu runs unchecked"

static long vmstat_read(const char *name)
{
	static char buf[16384];
	size_t len = strlen(name);
	char *p = buf;

	if (read_path("/proc/vmstat", buf, sizeof(buf)) <= 0)
		return -1;
	while (p && *p) {
		if (!strncmp(p, name, len) && p[len] == ' ')
			return strtol(p + len + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

/* Chunk @c of the file in small pages: a hole punched, then written. */
static int refill_chunk(int fd, size_t c)
{
	static char page[PAGE];

	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      c * HPAGE, HPAGE))
		return -1;
	for (size_t off = 0; off < HPAGE; off += PAGE) {
		memset(page, (int)(off / PAGE) | 1, PAGE);
		if (pwrite(fd, page, PAGE, c * HPAGE + off) != (ssize_t)PAGE)
			return -1;
	}
	return 0;
}

static void read_all(const char *p, size_t len)
{
	for (size_t off = 0; off < len; off += PAGE)
		(void)READ_ONCE(p[off]);
}

/*
 * Slot 1, the collapser, over and over on one 2M chunk after another:
 * punch it, write it again in small pages, map them, collapse them into
 * a THP with MADV_COLLAPSE, which also takes the other mapper's PTE table
 * of the chunk away (retract_page_tables(), with no mmap lock there).
 * Slot 2 maps every page all the time, in PTEs (no MADV_HUGEPAGE), and
 * a PMD once a chunk is a THP. What the collapser's chunk mapped before
 * each punch and each collapse is pushed for the check.
 */
static void collapse_mapper(int fd, size_t len, int slot, char **where)
{
	char *p = map_aligned(len, PROT_READ, MAP_SHARED, fd);
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	u64 rng = getpid();

	if (!p || pm < 0)
		_exit(1);
	if (slot == 1)
		madvise(p, len, MADV_HUGEPAGE);
	*where = p;	/* the parent's copy of the pointer, shared */
	for (size_t c = 0;; c = (c + 1) % (len / HPAGE)) {
		char *chunk = p + c * HPAGE;

		park(slot);
		if (slot != 1) {
			read_all(p, len);
			continue;
		}
		push_mapped(pm, chunk, 1);
		if (refill_chunk(fd, c))
			_exit(1);
		read_all(chunk, HPAGE);
		sleep_ms(rng_below(&rng, 4));
		push_mapped(pm, chunk, 1);
		if (madvise(chunk, HPAGE, MADV_COLLAPSE)) {
			if (errno == EINVAL) {
				rs->ops = -1UL;	/* no MADV_COLLAPSE */
				__atomic_store_n(&rs->ready, 1, __ATOMIC_RELEASE);
			}
			continue;
		}
		__atomic_add_fetch(&rs->ops, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&rs->ready, 1, __ATOMIC_RELEASE);
	}
}

/* A syncs-and-checks run over one file: the collapser and a mapper. */
static int collapse_round(int fd, const char *what, double seconds,
			  struct mismatch *over, struct mismatch *conv,
			  unsigned long *pmd_mapped)
{
	size_t len = COLLAPSE_MB << 20;
	char **where = (char **)((char *)rs + 2048);
	double t0, full;
	pid_t kids[2] = { 0, 0 };
	char label[32];
	int i;

	snprintf(label, sizeof(label), "%s over-count", what);
	runs_skip();
	for (size_t c = 0; c < len / HPAGE; c++)
		if (ftruncate(fd, len) || refill_chunk(fd, c))
			return -1;
	for (i = 0; i < 2; i++) {
		kids[i] = fork();
		if (!kids[i])
			collapse_mapper(fd, len, 1 + i, &where[i]);
		track(kids[i]);
	}
	t0 = now();
	while (!__atomic_load_n(&rs->ready, __ATOMIC_ACQUIRE) &&
	       now() - t0 < 60)
		sleep_ms(5);
	if (rs->ops == -1UL) {
		stop_children(kids, 2);
		return 1;	/* no MADV_COLLAPSE */
	}
	t0 = now();
	full = t0;
	do {
		/* the mapper whose tables are retracted under it, mostly */
		runs_sync_starts();
		for (i = 1; i >= 0; i--) {
			if (sync_pid(kids[i]))
				collapse_sync_err++;
			collapse_syncs++;
		}
		/* the collapser parked: see race_thp() */
		if (!pause_all(2)) {
			tap_diag("collapse: the collapser did not park");
			over->first++;
			break;
		}
		collapse_lost += check_runs(over, label, runs_end());
		resume_all();
		collapse_points++;
		if (now() - full < FULL_EVERY && now() - t0 < seconds)
			continue;
		/* all of RAM, and with both parked, every page indexed */
		compare_all_over(over);
		if (!pause_all(6)) {
			tap_diag("collapse: children did not park");
			conv->first++;
			break;
		}
		for (i = 0; i < 2; i++)
			sync_pid(kids[i]);
		for (i = 0; i < 2; i++) {
			char smaps[64], buf[65536], *s;

			compare_range(kids[i], where[i], len, conv, what);
			snprintf(smaps, sizeof(smaps), "/proc/%d/smaps_rollup",
				 kids[i]);
			read_path(smaps, buf, sizeof(buf));
			s = strstr(buf, "PmdMapped:");
			while (s) {	/* Shmem- and FilePmdMapped */
				*pmd_mapped += strtoul(s + 10, NULL, 10);
				s = strstr(s + 10, "PmdMapped:");
			}
		}
		full = now();
		resume_all();
	} while (now() - t0 < seconds);
	collapses += rs->ops;
	stop_children(kids, 2);
	return 0;
}

static void race_collapse(double seconds)
{
	static const char *const knobs[] = {
		"khugepaged/scan_sleep_millisecs",
		"khugepaged/alloc_sleep_millisecs",
		"khugepaged/pages_to_scan", "shmem_enabled",
	};
	static const char *const fast[] = { "100", "100", "4096", "advise" };
	char saved[4][64], path[128];
	struct mismatch over = { 0 }, conv = { 0 };
	unsigned long rounds = 0, pmd_kb = 0;
	long collapsed0 = vmstat_read("thp_collapse_alloc");
	int fds[2], rc = 0, i;

	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), THP_KNOB "%s", knobs[i]);
		read_text(path, saved[i], sizeof(saved[i]));
		/* shmem_enabled reads "always within_size [advise] never..." */
		if (strchr(saved[i], '[')) {
			char *b = strchr(saved[i], '[') + 1;

			memmove(saved[i], b, strcspn(b, "]"));
			saved[i][strcspn(b, "]")] = '\0';
		}
		write_file(path, fast[i]);
	}
	mkdir(RACE_TMPFS, 0700);
	fds[0] = memfd_create("hment-races", 0);
	fds[1] = -1;
	if (!mount("tmpfs", RACE_TMPFS, "tmpfs", 0, "huge=advise"))
		fds[1] = open(RACE_TMPFS "/file", O_RDWR | O_CREAT, 0600);
	if (fds[0] < 0 || fds[1] < 0) {
		tap_ok(false, "collapse: memfd/tmpfs file: %s", strerror(errno));
		goto out;
	}
	for (rounds = 0; rounds < 2; rounds++) {
		rc = collapse_round(fds[rounds], rounds ? "tmpfs" : "shmem",
				    seconds / 2, &over, &conv, &pmd_kb);
		if (rc)
			break;
	}
	if (rc > 0) {
		tap_ok(true, "collapse # SKIP no MADV_COLLAPSE on this kernel");
	} else {
		tap_diag(COLLAPSE_DIAG, collapse_syncs, collapse_sync_err, collapses,
			 vmstat_read("thp_collapse_alloc") - collapsed0, pmd_kb,
			 collapse_lost);
		tap_ok(!rc && collapses && pmd_kb && collapse_syncs &&
		       !collapse_sync_err,
		       "collapse: shmem and tmpfs pages collapsed %lu times while syncs ran (%lu kB PMD-mapped at the checks)",
		       collapses, pmd_kb);
		tap_ok(!rc && !over.first,
		       "collapse: after each of %lu syncs no pfn the collapses let go of is above /proc/kpagecount, nor any of RAM (%lu pfns compared; first-look %lu, persisting %lu)",
		       collapse_points, over.checked, over.first, over.persist);
		tap_ok(!rc && !conv.first && conv.checked,
		       "collapse: after one sync every page of both mappers is indexed (%lu pages; first-look %lu, persisting %lu)",
		       conv.checked, conv.first, conv.persist);
	}
out:
	for (i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	unlink(RACE_TMPFS "/file");
	umount(RACE_TMPFS);
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), THP_KNOB "%s", knobs[i]);
		write_file(path, saved[i]);
	}
}

/* ---- hugetlb ---- */

#define PUD_SPAN	BIT(30)
#define SHARE_SPANS	2	/* 1G regions, each with its own PMD table */
#define SHARE_PAGES	2	/* 2M pages faulted per region */
#define HUGETLB_DIAG	"hugetlb: %lu syncs (%lu failed), %lu map/punch/unmap cycles, PMD table seen shared %lu times, %lu runs unchecked"
#define HUGETLB_SHARED_DIAG	"hugetlb: %lu of the pfns above /proc/kpagecount were so only by an entry of a shared PMD table counted once per process (the kernel counts it once)"

/*
 * One of two processes, over and over: map the hugetlb file over whole
 * 1G regions at the same addresses as the other (so that the second to
 * fault shares the first's PMD tables, huge_pmd_share()), fault a few
 * pages, punch them out of the file (which unshares the PMD table in
 * every mm but the last, huge_pmd_unshare(), with no mmap lock there),
 * and unmap (the last user frees the table). The syncs walk both:
 * a walker reading a shared table without the file's i_mmap lock reads
 * it after it is freed. What was mapped before each punch is pushed.
 */
static void share_child(int fd, char *at, int slot, u64 rng)
{
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (pm < 0)
		_exit(1);
	for (;;) {
		char *p = mmap(at, SHARE_SPANS * PUD_SPAN,
			       PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_FIXED | MAP_NORESERVE, fd, 0);

		if (p == MAP_FAILED)
			_exit(1);
		for (int r = 0; r < SHARE_SPANS; r++)
			for (int i = 0; i < SHARE_PAGES; i++)
				p[r * PUD_SPAN + i * HPAGE] = 1;
		__atomic_store_n(&rs->ready, 1, __ATOMIC_RELEASE);
		park(slot);	/* mapped: the parent may see the sharing */
		sleep_ms(rng_below(&rng, 3));
		for (int r = 0; r < SHARE_SPANS; r++)
			for (int i = 0; i < SHARE_PAGES; i++)
				push_mapped(pm, p + r * PUD_SPAN + i * HPAGE,
					    1);
		if (rng_below(&rng, 2))
			for (int r = 0; r < SHARE_SPANS; r++)
				fallocate(fd, FALLOC_FL_PUNCH_HOLE |
					  FALLOC_FL_KEEP_SIZE, r * PUD_SPAN,
					  SHARE_PAGES * HPAGE);
		sleep_ms(rng_below(&rng, 3));
		/* unmapped: back to PROT_NONE, the region stays reserved */
		mmap(at, SHARE_SPANS * PUD_SPAN, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		     -1, 0);
		__atomic_add_fetch(&rs->ops, 1, __ATOMIC_RELAXED);
	}
}

/* Does hment name two processes mapping @pfn through one table entry? */
static bool table_shared(u64 pfn)
{
	struct lookup_row r[8];
	unsigned int n;

	n = lookup_rows(pfn, r, 8, 5);
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = i + 1; j < n; j++)
			if (r[i].pid != r[j].pid && r[i].ptpfn == r[j].ptpfn &&
			    r[i].entry == r[j].entry)
				return true;
	return false;
}

static void race_hugetlb(double seconds, u64 seed)
{
	size_t len = SHARE_SPANS * PUD_SPAN;
	unsigned long points = 0, syncs = 0, sync_err = 0, lost = 0;
	unsigned long shared = 0, cycles;
	long pool = read_long("/proc/sys/vm/nr_hugepages");
	struct mismatch m = { 0 };
	pid_t kids[2] = { 0, 0 };
	double t0 = now();
	char *raw, *at;
	int fd, i;

	if (pool < SHARE_SPANS * SHARE_PAGES) {
		tap_ok(true, "hugetlb # SKIP %ld hugetlb pages, %d needed",
		       pool, SHARE_SPANS * SHARE_PAGES);
		return;
	}
	fd = memfd_create("hment-races-hugetlb", MFD_HUGETLB);
	raw = mmap(NULL, len + PUD_SPAN, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fd < 0 || raw == MAP_FAILED || ftruncate(fd, len)) {
		tap_ok(false, "hugetlb: memfd/mmap: %s", strerror(errno));
		return;
	}
	at = (char *)(((unsigned long)raw + PUD_SPAN - 1) & ~(PUD_SPAN - 1));
	m.shared_ok = true;
	runs_skip();
	for (i = 0; i < 2; i++) {
		kids[i] = fork();
		if (!kids[i])
			share_child(fd, at, 1 + i, rng_next(&seed));
	}
	while (!__atomic_load_n(&rs->ready, __ATOMIC_ACQUIRE) &&
	       now() - t0 < 60)
		sleep_ms(5);
	for (i = 0; i < 2; i++)
		track(kids[i]);
	do {
		runs_sync_starts();
		for (i = 0; i < 2; i++) {
			if (sync_pid(kids[i]))
				sync_err++;
			syncs++;
		}
		lost += check_runs(&m, "hugetlb over-count", runs_end());
		if (!(points++ % 8)) {
			/* both parked, mapped: sync, then look */
			if (!pause_all(6)) {
				tap_diag("hugetlb: children did not park");
				m.first++;
				break;
			}
			for (i = 0; i < 2; i++)
				sync_pid(kids[i]);
			shared += table_shared(pagemap_pfn(kids[0],
							   (unsigned long)at));
			resume_all();
		}
	} while (now() - t0 < seconds || points < 3);
	cycles = rs->ops;
	tap_diag(HUGETLB_DIAG, syncs, sync_err, cycles, shared, lost);
	tap_diag(HUGETLB_SHARED_DIAG, m.shared);
	stop_children(kids, 2);
	close(fd);
	munmap(raw, len + PUD_SPAN);
	tap_ok(!m.first && cycles && shared && !sync_err,
	       "hugetlb: PMD tables shared over 1G, unshared by punching the file and freed while syncs walk them: after each of %lu syncs no pfn above /proc/kpagecount (%lu pfns compared; first-look %lu, persisting %lu)",
	       points, m.checked, m.first, m.persist);
}

/* ---- the windows held open: leafwin and sharewin ---- */

/*
 * The walker's own races last microseconds; the module's test hook
 * (debugfs `inject`, module/inject.c) holds a sync at a named point of
 * its walk for the one address a test names, until released. The test
 * waits for the hold, makes its change, releases, and checks at the
 * quiescent point after the sync: every round races.
 */
#define WIN_ROUNDS	12
#define WIN_HOLD_MS	8000	/* the hook's bound, if never released */
#define WIN_ACT_MS	1500	/* a change not done by then is blocked */
#define PUDWIN_DIAG	"pudwin: %d rounds: %lu held: %lu MADV_DONTNEED inside the window, %lu punches and %lu munmaps (%lu changes blocked until the walker let go: i_mmap_rwsem, mmap_lock); %lu not held, %lu without the 1G page"
#define LEAFWIN_DIAG	"leafwin: %d rounds: %lu held with the change made inside the window (%lu zaps, %lu splits), %lu not held, %lu without a THP"
#define LOOKUP_DIAG	"  %s: lookup of pfn %#llx names pid %d at %#lx, where pagemap has %#llx"
#define PTEWIN_DIAG	"ptewin: %d rounds: %lu held with the collapse made inside the window (%lu collapses in all, %lu tables retracted inside it), %lu blocked, %lu not held"
#define SHAREWIN_DIAG	"sharewin: %d rounds: %lu held, of which %lu with the punch and unmap done inside the window and %lu blocked until the walker let go (the file's i_mmap_rwsem), %lu not held, PMD table shared %lu times"

enum { WIN_FAULT = 1, WIN_ZAP, WIN_SPLIT, WIN_MAP, WIN_PUNCH, WIN_COLLAPSE,
	WIN_UNMAP };

/* What the parent asks a window child to do, and what it did. */
struct win_cmd {
	int seq, done, started, op;
	unsigned long arg;
};

static struct win_cmd *win_cmds;	/* one per child, in rs */

/* The child's side: run each command the parent posts, in turn. */
static void win_serve(int slot, void (*fn)(int op, unsigned long arg))
{
	struct win_cmd *c = &win_cmds[slot];
	int seq = 0;

	for (;;) {
		while (__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) == seq)
			sleep_ms(1);
		seq = c->seq;
		__atomic_store_n(&c->started, seq, __ATOMIC_RELEASE);
		fn(c->op, c->arg);
		__atomic_store_n(&c->done, seq, __ATOMIC_RELEASE);
	}
}

static void win_post(int slot, int op, unsigned long arg)
{
	struct win_cmd *c = &win_cmds[slot];

	c->op = op;
	c->arg = arg;
	__atomic_add_fetch(&c->seq, 1, __ATOMIC_RELEASE);
}

/* Has the last command been started / done (within @ms)? */
static bool win_wait(int slot, bool done, unsigned int ms)
{
	struct win_cmd *c = &win_cmds[slot];
	int *what = done ? &c->done : &c->started;
	double t0 = now();

	while (__atomic_load_n(what, __ATOMIC_ACQUIRE) != c->seq) {
		if ((now() - t0) * 1000 > ms)
			return false;
		sleep_ms(1);
	}
	return true;
}

static bool win_do(int slot, int op, unsigned long arg)
{
	win_post(slot, op, arg);
	return win_wait(slot, true, 60000);
}

/* The hook's "hits N waiting N". */
static bool inject_state(long *hits, int *waiting)
{
	char buf[256], *s;

	if (hm_read("inject", buf, sizeof(buf)) < 0)
		return false;
	s = strstr(buf, " hits ");
	return s && sscanf(s, " hits %ld waiting %d", hits, waiting) == 2;
}

struct win_sync {
	pthread_t t;
	pid_t pid;
	int err;
};

static void *win_sync_thread(void *arg)
{
	struct win_sync *s = arg;

	s->err = sync_pid(s->pid);
	return NULL;
}

enum win_result { WIN_MISSED, WIN_INSIDE, WIN_BLOCKED, WIN_ERROR };

/*
 * Sync @pid with the hook armed at @point for @addr; once the walker is
 * held there, have child @slot do @op and release the walker when the
 * change is done, or after WIN_ACT_MS if it is blocked (on the walker's
 * locks); then wait for both.
 */
static enum win_result win_race(pid_t pid, const char *point,
				unsigned long addr, int slot, int op,
				unsigned long arg)
{
	struct win_sync s = { .pid = pid };
	enum win_result r = WIN_MISSED;
	long h0, h;
	double t0;
	char cmd[64];
	int waiting;

	if (!inject_state(&h0, &waiting))
		return WIN_ERROR;
	snprintf(cmd, sizeof(cmd), "%s %d %#lx", point, WIN_HOLD_MS, addr);
	if (hm_write_str("inject", cmd))
		return WIN_ERROR;
	if (pthread_create(&s.t, NULL, win_sync_thread, &s)) {
		hm_write_str("inject", "off");
		return WIN_ERROR;
	}
	t0 = now();
	while (inject_state(&h, &waiting) && h == h0 && now() - t0 < 60)
		sleep_ms(1);
	if (h != h0) {
		win_post(slot, op, arg);
		if (win_wait(slot, true, WIN_ACT_MS))
			r = inject_state(&h, &waiting) && waiting ?
			    WIN_INSIDE : WIN_MISSED;
		else
			r = win_wait(slot, false, 0) ? WIN_BLOCKED : WIN_ERROR;
	}
	hm_write_str("inject", "off");
	pthread_join(s.t, NULL);
	if (h != h0 && !win_wait(slot, true, 60000))
		r = WIN_ERROR;
	if (s.err) {
		tap_diag("window: sync pid %d: %s", pid, errname(-s.err));
		r = WIN_ERROR;
	}
	return r;
}

/*
 * A round's result tallied; false, nothing to check, when the window was
 * missed or failed (*@err set: the rounds end).
 */
static bool win_held(enum win_result r, bool *err, unsigned long *missed,
		     unsigned long *held)
{
	if (r == WIN_ERROR)
		*err = true;
	else if (r == WIN_MISSED)
		++*missed;
	else
		++*held;
	return r == WIN_INSIDE || r == WIN_BLOCKED;
}

/*
 * Every mapping lookup names for @pfn in @pid is one pagemap shows: a
 * leaf recorded after it was gone names a process that maps nothing
 * there, or another page.
 */
static void check_lookup(pid_t pid, u64 pfn, struct mismatch *m,
			 const char *what)
{
	struct lookup_row r[16];
	unsigned int n, i;

	n = lookup_rows(pfn, r, 16, 2);
	for (i = 0; i < n; i++) {
		u64 real;

		if (r[i].pid != pid)
			continue;
		m->checked++;
		real = pagemap_pfn(pid, r[i].va);
		if (real == pfn)
			continue;
		m->first++;
		if (m->first <= 5)
			tap_diag(LOOKUP_DIAG, what, (unsigned long long)pfn, pid, r[i].va,
				 (unsigned long long)real);
	}
}

/*
 * The 512 pfns from @pfn (a 2M page's, one page of counts): hment never
 * above the kernel.
 */
static void check_over(u64 pfn, struct mismatch *m, const char *what)
{
	static u64 kb[PAGE / 8], hb[PAGE / 8];
	int kfd, hfd;

	if (open_counts(&kfd, &hfd)) {
		m->first++;
		return;
	}
	if (!read_counts(kfd, hfd, pfn / (PAGE / 8), kb, hb, PAGE / 8 - 1))
		m->first++;
	else
		for (unsigned int j = 0; j < PAGE / 8; j++) {
			m->checked++;
			if (hb[j] <= kb[j])
				continue;
			m->checked--;
			compare_pfn(kfd, hfd, pfn / (PAGE / 8) * (PAGE / 8) + j,
				    true, m, what);
		}
	close(kfd);
	close(hfd);
}

static long anon_huge_kb(pid_t pid)
{
	char path[64], buf[4096], *s;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	if (read_path(path, buf, sizeof(buf)) <= 0)
		return 0;
	s = strstr(buf, "AnonHugePages:");
	return s ? strtol(s + 14, NULL, 10) : 0;
}

static char *leafwin_thp;

/*
 * leafwin's child: a THP faulted afresh, then zapped or split by a 4K
 * MADV_DONTNEED (both under mmap_lock for read, so inside the window);
 * not collapsed again by khugepaged meanwhile (MADV_NOHUGEPAGE).
 */
static void leafwin_op(int op, unsigned long arg)
{
	char *t = leafwin_thp;

	switch (op) {
	case WIN_FAULT:
		/* a new VMA: a split left a PTE table, where no THP faults */
		mmap(t, HPAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		madvise(t, HPAGE, MADV_HUGEPAGE);
		fault_in(t, 1);
		madvise(t, HPAGE, MADV_NOHUGEPAGE);
		break;
	case WIN_ZAP:
		madvise(t, HPAGE, MADV_DONTNEED);
		break;
	case WIN_SPLIT:
		madvise(t + arg, PAGE, MADV_DONTNEED);
		break;
	}
}

/*
 * Item 2 of issue 9: a 2M leaf read, then zapped or split while the
 * walker is held before its pass; after the sync, hment must neither
 * count the THP's pages above the kernel nor name the child at a page
 * it no longer maps, and must count what the child maps now exactly.
 * Half the rounds index the THP first (the notifier then removes it
 * inside the window), half do not.
 */
static void race_leafwin(u64 seed)
{
	unsigned long held = 0, missed = 0, nothp = 0, zaps = 0, splits = 0;
	struct mismatch over = { 0 }, look = { 0 }, exact = { 0 };
	u64 rng = seed | 1;
	bool err = false;
	pid_t kid;
	int round;

	leafwin_thp = map_aligned(HPAGE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1);
	if (!leafwin_thp) {
		tap_ok(false, "leafwin: mmap: %s", strerror(errno));
		return;
	}
	memset(win_cmds, 0, 2 * sizeof(*win_cmds));
	kid = fork();
	if (!kid)
		win_serve(0, leafwin_op);
	track(kid);
	for (round = 0; round < WIN_ROUNDS && !err; round++) {
		unsigned long off = rng_below(&rng, HPAGE / PAGE) * PAGE;
		int op = round & 2 ? WIN_SPLIT : WIN_ZAP;
		enum win_result r;
		u64 p0;

		if (!win_do(0, WIN_FAULT, 0)) {
			err = true;
			break;
		}
		p0 = pagemap_pfn(kid, (unsigned long)leafwin_thp);
		if (anon_huge_kb(kid) < 2048 || !p0) {
			nothp++;
			continue;
		}
		if (round & 1)
			sync_pid(kid);
		r = win_race(kid, "leaf", (unsigned long)leafwin_thp, 0, op,
			     off);
		if (r == WIN_ERROR) {
			err = true;
			break;
		}
		if (r != WIN_INSIDE) {
			missed++;
			continue;
		}
		held++;
		zaps += op == WIN_ZAP;
		splits += op == WIN_SPLIT;
		check_over(p0, &over, "leafwin over-count");
		check_lookup(kid, p0, &look, "leafwin");
		check_lookup(kid, p0 + off / PAGE, &look, "leafwin");
		check_lookup(kid, p0 + 1 + (off / PAGE + 1) % 511, &look,
			     "leafwin");
		compare_range(kid, leafwin_thp, HPAGE, &exact, "leafwin");
	}
	tap_diag(LEAFWIN_DIAG, round, held, zaps, splits, missed, nothp);
	stop_child(kid);
	memset(rs, 0, sizeof(*rs));
	munmap(leafwin_thp, HPAGE);
	tap_ok(!err && held >= WIN_ROUNDS / 2 && zaps && splits,
	       "leafwin: the walker held after reading a THP's PMD, the THP zapped or split meanwhile, in %lu of %d rounds",
	       held, WIN_ROUNDS);
	tap_ok(!err && !over.first && !look.first && !exact.first &&
	       over.checked && exact.checked,
	       "leafwin: after each such sync no pfn of the THP above /proc/kpagecount, lookup names only what pagemap shows, the child's pages counted exactly (%lu pfns, %lu lookups, %lu pages compared; over %lu, lookup %lu, exact %lu wrong)",
	       over.checked, look.checked, exact.checked, over.first,
	       look.first, exact.first);
}

/*
 * A window test's hugetlb memfd, 1G long (@size_flag: MFD_HUGE_1GB, or 0
 * for the default page size), and a 1G-aligned 1G span of address space
 * to map it at, inside *@raw (2G, PROT_NONE, for the caller to unmap).
 * NULL once a failure is reported.
 */
static char *pud_span_file(const char *test, unsigned int size_flag,
			   int *fd, char **raw)
{
	char name[32];

	snprintf(name, sizeof(name), "hment-%s", test);
	*fd = memfd_create(name, MFD_HUGETLB | size_flag);
	*raw = mmap(NULL, 2 * PUD_SPAN, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (*fd < 0 || *raw == MAP_FAILED || ftruncate(*fd, PUD_SPAN)) {
		tap_ok(false, "%s: memfd/mmap: %s", test, strerror(errno));
		return NULL;
	}
	memset(win_cmds, 0, 2 * sizeof(*win_cmds));
	return (char *)(((unsigned long)*raw + PUD_SPAN - 1) &
			~(PUD_SPAN - 1));
}

/* ---- pudwin: leafwin for a 1G hugetlb page, a PUD leaf ---- */

#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB	(30 << 26)	/* MAP_HUGE_SHIFT 26 */
#endif
#ifndef MFD_HUGE_1GB
#define MFD_HUGE_1GB	(30U << 26)
#endif
#define GIG_FREE	"/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages"

static char *pudwin_at;
static int pudwin_fd;

/*
 * pudwin's child: WIN_FAULT maps the 1G page afresh at pudwin_at, private
 * anonymous (arg 0) or from a hugetlbfs memfd, shared (arg 1), and
 * touches it; then MADV_DONTNEED zaps it (under mmap_lock for read: inside
 * the window), or a punch of the file frees it (under i_mmap_rwsem for
 * write, which the walker holds for read over a shareable hugetlb VMA),
 * or munmap (mmap_lock for write): those two wait for the walker.
 */
static void pudwin_op(int op, unsigned long arg)
{
	char *p = pudwin_at;

	switch (op) {
	case WIN_FAULT:
		/* the pool has one page: the last round's must be back */
		mmap(p, PUD_SPAN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		     MAP_FIXED | MAP_NORESERVE, -1, 0);
		fallocate(pudwin_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  0, PUD_SPAN);
		if (arg)
			p = mmap(p, PUD_SPAN, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, pudwin_fd, 0);
		else
			p = mmap(p, PUD_SPAN, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
				 MAP_HUGETLB | MAP_HUGE_1GB, -1, 0);
		if (p != MAP_FAILED)
			p[0] = 1;
		break;
	case WIN_ZAP:
		madvise(p, PUD_SPAN, MADV_DONTNEED);
		break;
	case WIN_PUNCH:
		fallocate(pudwin_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  0, PUD_SPAN);
		break;
	case WIN_UNMAP:
		munmap(p, PUD_SPAN);
		break;
	}
}

/*
 * leafwin at level 2: a 1G leaf read, then zapped (MADV_DONTNEED of a
 * private mapping, a punch of a shared one) while the walker is held
 * before its pass, or unmapped (which waits for it); after the sync no
 * pfn of the 1G page may count otherwise in hment than in the kernel (the
 * page is back in the pool: 0 in both), and lookup names only what
 * pagemap shows. Needs a 1G page (scripts/stress --1g); skipped without.
 */
static void race_pudwin(u64 seed)
{
	unsigned long held = 0, missed = 0, nopage = 0, zaps = 0, punches = 0;
	unsigned long unmaps = 0, blocked = 0;
	struct mismatch exact = { 0 }, look = { 0 }, mapped = { 0 };
	long pool = read_long(GIG_FREE);
	u64 rng = seed | 1;
	bool err = false;
	char *raw;
	pid_t kid;
	int round;

	if (pool < 1) {
		tap_ok(true, "pudwin # SKIP no free 1G hugetlb page (scripts/stress --1g)");
		return;
	}
	pudwin_at = pud_span_file("pudwin", MFD_HUGE_1GB, &pudwin_fd, &raw);
	if (!pudwin_at)
		return;
	kid = fork();
	if (!kid)
		win_serve(0, pudwin_op);
	track(kid);
	for (round = 0; round < WIN_ROUNDS && !err; round++) {
		/* zap private, punch shared, unmap either */
		int op = round % 3 == 0 ? WIN_ZAP :
			 round % 3 == 1 ? WIN_PUNCH : WIN_UNMAP;
		unsigned long shared = op == WIN_PUNCH ||
				       (op == WIN_UNMAP && round & 1);
		u64 off = rng_below(&rng, PUD_SPAN / PAGE), p0;
		enum win_result r;

		if (!win_do(0, WIN_FAULT, shared)) {
			err = true;
			break;
		}
		p0 = pagemap_pfn(kid, (unsigned long)pudwin_at);
		if (!p0 || p0 % (PUD_SPAN / PAGE) ||
		    pagemap_pfn(kid, (unsigned long)pudwin_at + PUD_SPAN - PAGE) !=
		    p0 + PUD_SPAN / PAGE - 1) {
			nopage++;
			continue;
		}
		if (round & 1) {
			/* indexed while mapped: 4096 of its pfns, 1 in both */
			sync_pid(kid);
			compare_pfns(p0 + (off & ~4095ULL),
				     p0 + (off & ~4095ULL) + 4096, false,
				     &mapped, "pudwin mapped");
		}
		r = win_race(kid, "leaf", (unsigned long)pudwin_at, 0, op, 0);
		if (!win_held(r, &err, &missed, &held))
			continue;
		zaps += op == WIN_ZAP && r == WIN_INSIDE;
		punches += op == WIN_PUNCH;
		unmaps += op == WIN_UNMAP;
		blocked += r == WIN_BLOCKED;
		/* hment equal to the kernel, so never above it */
		compare_pfns(p0, p0 + PUD_SPAN / PAGE, false, &exact,
			     "pudwin count");
		check_lookup(kid, p0, &look, "pudwin");
		check_lookup(kid, p0 + off, &look, "pudwin");
		check_lookup(kid, p0 + PUD_SPAN / PAGE - 1, &look, "pudwin");
	}
	tap_diag(PUDWIN_DIAG, round, held, zaps, punches, unmaps, blocked,
		 missed, nopage);
	stop_child(kid);
	memset(rs, 0, sizeof(*rs));
	close(pudwin_fd);
	munmap(raw, 2 * PUD_SPAN);
	tap_ok(!err && held >= WIN_ROUNDS / 2 && zaps && punches && unmaps,
	       "pudwin: the walker held after reading a 1G page's PUD leaf while the page is zapped (inside the window), punched or unmapped (blocked until it lets go), in %lu of %d rounds",
	       held, WIN_ROUNDS);
	tap_ok(!err && !exact.first && !look.first && exact.checked &&
	       !mapped.first && mapped.checked,
	       "pudwin: after each such sync every pfn of the 1G page counts in hment as in /proc/kpagecount (so none above it), lookup names only what pagemap shows; mapped and synced, it counted exactly too (%lu pfns, %lu lookups, %lu pfns mapped compared; count %lu, lookup %lu, mapped %lu wrong)",
	       exact.checked, look.checked, mapped.checked, exact.first,
	       look.first, mapped.first);
}

static char *sharewin_at;
static int sharewin_fd;

/*
 * sharewin's children, both mapping the hugetlb file over a whole 1G
 * region at the same address: slot 0 (the one synced) for good, faulting
 * its pages again each round in a PMD table of its own; slot 1 maps and
 * faults them in each round, sharing that table (huge_pmd_share()), then
 * punches them out of the file, which unshares slot 0's table (the first
 * in the file's i_mmap tree) and zaps its own, and unmaps, which frees
 * the table.
 */
static void sharewin_op(int op, unsigned long arg)
{
	char *p = sharewin_at;

	(void)arg;
	if (op == WIN_MAP &&
	    mmap(p, PUD_SPAN, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED | MAP_NORESERVE, sharewin_fd, 0) != p)
		_exit(1);
	switch (op) {
	case WIN_MAP:
	case WIN_FAULT:
		for (int i = 0; i < SHARE_PAGES; i++)
			p[i * HPAGE] = 1;
		break;
	case WIN_PUNCH:
		fallocate(sharewin_fd, FALLOC_FL_PUNCH_HOLE |
			  FALLOC_FL_KEEP_SIZE, 0, SHARE_PAGES * HPAGE);
		mmap(p, PUD_SPAN, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		     -1, 0);
		break;
	}
}

/*
 * Item 7 of issue 9: the walker holds after reading the PUD that names a
 * shared PMD table, while the other sharer punches the file and unmaps,
 * which frees the table; on the code before the fix the walker then
 * reads a freed table (KASAN on the debug kernels), on the fixed code the
 * punch waits for the walker. Before each race both are synced with the
 * table shared: each page must count exactly as the kernel counts it
 * (once, item 2 of this branch), and lookup must name both.
 */
static void race_sharewin(void)
{
	unsigned long held = 0, inside = 0, blocked = 0, missed = 0;
	unsigned long shared = 0;
	struct mismatch over = { 0 }, look = { 0 }, exact = { 0 };
	long pool = read_long("/proc/sys/vm/nr_hugepages");
	pid_t kids[2] = { 0, 0 };
	bool err = false;
	char *raw;
	int round, i;

	if (pool < 2 * SHARE_PAGES) {
		tap_ok(true, "sharewin # SKIP %ld hugetlb pages, %d needed",
		       pool, 2 * SHARE_PAGES);
		return;
	}
	sharewin_at = pud_span_file("sharewin", 0, &sharewin_fd, &raw);
	if (!sharewin_at)
		return;
	for (i = 0; i < 2; i++) {
		kids[i] = fork();
		if (!kids[i])
			win_serve(i, sharewin_op);
		track(kids[i]);
	}
	/* slot 0 maps first: first in the file's i_mmap tree */
	if (!win_do(0, WIN_MAP, 0))
		err = true;
	for (round = 0; round < WIN_ROUNDS && !err; round++) {
		u64 pfns[SHARE_PAGES];
		enum win_result r;

		if (!win_do(0, WIN_FAULT, 0) || !win_do(1, WIN_MAP, 0)) {
			err = true;
			break;
		}
		for (i = 0; i < 2; i++)
			sync_pid(kids[i]);
		for (i = 0; i < SHARE_PAGES; i++)
			pfns[i] = pagemap_pfn(kids[0], (unsigned long)sharewin_at +
					      i * HPAGE);
		shared += table_shared(pfns[0]);
		/* once wrong, not again: each wrong pfn is read twice more */
		for (i = 0; i < 2 && !exact.first; i++)
			compare_range(kids[i], sharewin_at, SHARE_PAGES * HPAGE,
				      &exact, "sharewin shared");
		for (i = 0; i < 2; i++)
			check_lookup(kids[i], pfns[0], &look, "sharewin");
		r = win_race(kids[0], "table", (unsigned long)sharewin_at, 1,
			     WIN_PUNCH, 0);
		if (!win_held(r, &err, &missed, &held))
			continue;
		inside += r == WIN_INSIDE;
		blocked += r == WIN_BLOCKED;
		for (i = 0; i < SHARE_PAGES; i++) {
			check_over(pfns[i], &over, "sharewin over-count");
			check_lookup(kids[0], pfns[i], &look, "sharewin");
		}
		compare_range(kids[0], sharewin_at, SHARE_PAGES * HPAGE,
			      &exact, "sharewin");
	}
	tap_diag(SHAREWIN_DIAG, round, held, inside, blocked, missed, shared);
	stop_children(kids, 2);
	close(sharewin_fd);
	munmap(raw, 2 * PUD_SPAN);
	tap_ok(!err && held >= WIN_ROUNDS / 2 && shared == (unsigned long)round,
	       "sharewin: the walker held after reading the PUD of a shared PMD table, the other sharer punching and unmapping meanwhile, in %lu of %d rounds",
	       held, WIN_ROUNDS);
	tap_ok(!err && !over.first && !look.first && !exact.first &&
	       exact.checked,
	       "sharewin: hment equals /proc/kpagecount for every page of a shared PMD table (counted once) and is never above it after the race, lookup names only what pagemap shows (%lu pfns, %lu lookups, %lu pages compared; over %lu, lookup %lu, exact %lu wrong)",
	       over.checked, look.checked, exact.checked, over.first,
	       look.first, exact.first);
}

static char *ptewin_at;

/* A process's page tables, in kB (/proc/PID/status VmPTE). */
static long vm_pte_kb(pid_t pid)
{
	char path[64], buf[4096], *s;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_path(path, buf, sizeof(buf)) <= 0)
		return -1;
	s = strstr(buf, "VmPTE:");
	return s ? strtol(s + 6, NULL, 10) : -1;
}

/* The pagemap entries of the HPAGE at @p in @pid. */
static int pagemap_read(pid_t pid, const char *p, u64 *e)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = pread(fd, e, HPAGE / PAGE * 8, (unsigned long)p / PAGE * 8);
	close(fd);
	return n == HPAGE / PAGE * 8 ? 0 : -1;
}

/*
 * ptewin's children, both mapping one 2M chunk of a shmem file: slot 0
 * (the one synced) reads it in small pages, in a PTE table of its own;
 * slot 1 collapses it into a THP with MADV_COLLAPSE, which takes slot 0's
 * table away (retract_page_tables(), no mmap lock there on 6.5 and
 * later) and frees it after an RCU grace period (pte_free_defer()), which
 * the membarrier waits out.
 */
static void ptewin_op(int op, unsigned long arg)
{
	switch (op) {
	case WIN_FAULT:
		read_all(ptewin_at, HPAGE);
		break;
	case WIN_COLLAPSE:
		/* as the collapse test's collapser: its own PTEs first */
		read_all(ptewin_at, HPAGE);
		if (!madvise(ptewin_at, HPAGE, MADV_COLLAPSE))
			__atomic_add_fetch(&rs->ops, 1, __ATOMIC_RELAXED);
		else if (errno == EINVAL)
			rs->ops = -1UL;
		syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
		sleep_ms(20);
		break;
	}
	(void)arg;
}

/*
 * Item 1 of issue 9: the walker holds after reading the PMD that names a
 * PTE table, before locking it, while another mapper of the file collapses
 * the chunk, which retracts that table and frees it. The code before the
 * fix then locked the table through the PMD value it read before holding
 * (on the debug kernels, whose split PTE locks are allocated, KASAN sees
 * the freed lock); the fixed code reads the PMD again under RCU. After
 * each race the child's range must be indexed exactly as pagemap and
 * /proc/kpagecount have it. Before 6.5 tables go only under mmap_lock
 * for write, so no retract happens inside the window there.
 */
static void race_ptewin(void)
{
	unsigned long held = 0, missed = 0, retracted = 0, blocked = 0;
	unsigned long collapsed;
	struct mismatch over = { 0 }, exact = { 0 };
	static u64 before[HPAGE / PAGE];
	bool err = false, want_retract;
	pid_t kids[2] = { 0, 0 };
	int fd, round, i, kfd, hfd, maj = 0, min = 0;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%d.%d", &maj, &min) != 2) {
		tap_ok(false, "ptewin: kernel release: %s", strerror(errno));
		return;
	}
	want_retract = maj > 6 || (maj == 6 && min >= 5);
	fd = memfd_create("hment-ptewin", 0);
	if (fd < 0 || ftruncate(fd, HPAGE)) {
		tap_ok(false, "ptewin: memfd: %s", strerror(errno));
		return;
	}
	/* read-only and shared: no anon_vma, so retractable */
	ptewin_at = map_aligned(HPAGE, PROT_READ, MAP_SHARED, fd);
	if (!ptewin_at) {
		tap_ok(false, "ptewin: mmap: %s", strerror(errno));
		close(fd);
		return;
	}
	memset(win_cmds, 0, 2 * sizeof(*win_cmds));
	rs->ops = 0;
	for (i = 0; i < 2; i++) {
		kids[i] = fork();
		if (!kids[i]) {
			if (i)
				madvise(ptewin_at, HPAGE, MADV_HUGEPAGE);
			win_serve(i, ptewin_op);
		}
		track(kids[i]);
	}
	for (round = 0; round < WIN_ROUNDS && !err; round++) {
		enum win_result r;
		long pte_kb;

		if (refill_chunk(fd, 0) || !win_do(0, WIN_FAULT, 0)) {
			tap_diag("ptewin: refill or fault: %s", strerror(errno));
			err = true;
			break;
		}
		if (round & 1)
			sync_pid(kids[0]);
		if (pagemap_read(kids[0], ptewin_at, before)) {
			tap_diag("ptewin: pagemap: %s", strerror(errno));
			err = true;
			break;
		}
		pte_kb = vm_pte_kb(kids[0]);
		r = win_race(kids[0], "ptes", (unsigned long)ptewin_at, 1,
			     WIN_COLLAPSE, 0);
		if (rs->ops == -1UL)
			break;
		if (r == WIN_ERROR) {
			tap_diag("ptewin: round %d: the window failed", round);
			err = true;
			break;
		}
		if (r == WIN_BLOCKED)
			blocked++;
		if (r != WIN_INSIDE) {
			missed++;
			continue;
		}
		held++;
		retracted += vm_pte_kb(kids[0]) < pte_kb;
		/* what the table mapped is gone: never above the kernel */
		if (open_counts(&kfd, &hfd)) {
			err = true;
			break;
		}
		for (i = 0; i < (int)(HPAGE / PAGE); i++)
			if (before[i] & PM_PRESENT)
				compare_pfn(kfd, hfd, before[i] & PM_PFN_MASK,
					    true, &over, "ptewin over-count");
		close(kfd);
		close(hfd);
		/*
		 * and the THP the child maps next is indexed by one sync
		 * (the collapser maps it too: MADV_COLLAPSE installs its PMD)
		 */
		if (!win_do(0, WIN_FAULT, 0) || sync_pid(kids[0]) ||
		    sync_pid(kids[1])) {
			tap_diag("ptewin: fault or sync after the race failed");
			err = true;
			break;
		}
		compare_range(kids[0], ptewin_at, HPAGE, &exact, "ptewin");
	}
	collapsed = rs->ops;
	tap_diag(PTEWIN_DIAG, round, held, collapsed == -1UL ? 0 : collapsed,
		 retracted, blocked, missed);
	stop_children(kids, 2);	/* and clears rs */
	munmap(ptewin_at, HPAGE);
	close(fd);
	if (collapsed == -1UL) {
		tap_ok(true, "ptewin # SKIP MADV_COLLAPSE refused (EINVAL)");
		return;
	}
	tap_ok(!err && held >= WIN_ROUNDS / 2 && (retracted || !want_retract),
	       "ptewin: the walker held after reading the PMD of a PTE table, the table retracted by a collapse meanwhile, in %lu of %d rounds (%lu retracted%s)",
	       held, WIN_ROUNDS, retracted,
	       want_retract ? "" : "; none can be before 6.5");
	tap_ok(!err && !over.first && !exact.first && over.checked &&
	       exact.checked,
	       "ptewin: after each such sync no page the retracted table mapped is above /proc/kpagecount, and after the next every page of the child is indexed exactly (%lu pfns, %lu pages compared; over %lu, exact %lu wrong)",
	       over.checked, exact.checked, over.first, exact.first);
}

/* ---- reap ---- */

/* Is @pid listed by track? */
static bool tracked(pid_t pid)
{
	static char buf[65536];
	char *p = buf;

	if (hm_read("track", buf, sizeof(buf)) < 0)
		return false;
	while (p && *p) {
		if (atoi(p) == pid && *p != '#')
			return true;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

/*
 * A process that exits lets go of its hat, htables and mm at once, with
 * no `sync 1`: a `sync pid` of another process reaps it, and so does its
 * own exit without any sync.
 */
static void race_reap(void)
{
	static const char *const names[] = { "hats", "htables" };
	char cmd[32];
	long before[2], after[2];
	int exited_sync = -1, exited_none = -1;

	for (int round = 0; round < 2; round++) {
		int *res = round ? &exited_none : &exited_sync;
		int p[2];
		char c;
		pid_t kid;

		if (pipe(p))
			break;
		hm_stats(before, names, 2);
		kid = fork();
		if (!kid) {
			char *m = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (m != MAP_FAILED)
				memset(m, 1, 8 << 20);
			close(p[0]);
			if (write(p[1], "r", 1) != 1)
				_exit(1);
			for (;;)
				pause();	/* until killed */
		}
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			*res = -3;
		track(kid);
		snprintf(cmd, sizeof(cmd), "pid %d", kid);
		hm_write_str("sync", cmd);
		if (!tracked(kid)) {
			*res = -2;
			close(p[0]);
			stop_child(kid);
			continue;
		}
		stop_child(kid);	/* SIGKILL, reaped */
		close(p[0]);
		if (!round)
			sync_pid(getpid());	/* syncs another pid only */
		*res = 0;
		for (int i = 0; i < 200 && tracked(kid); i++)
			sleep_ms(10);
		*res = tracked(kid) ? 1 : 0;
		hm_stats(after, names, 2);
		tap_diag("reap: round %d: hats %ld -> %ld, htables %ld -> %ld",
			 round, before[0], after[0], before[1], after[1]);
	}
	tap_ok(exited_sync == 0,
	       "reap: an exited process leaves track at the next sync pid of another (%s)",
	       exited_sync == 1 ? "still listed" : exited_sync ? "not tracked" : "gone");
	tap_ok(exited_none == 0,
	       "reap: an exited process leaves track within 2 s with no sync (%s)",
	       exited_none == 1 ? "still listed" : exited_none ? "not tracked" : "gone");
}

int races_main(int argc, char **argv)
{
	const char *only =
		"reap converge thp collapse hugetlb leafwin pudwin sharewin ptewin";
	double seconds = 30, each;
	u64 seed = 1;
	char first[512];

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--seconds"))
			seconds = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--only") && *argv[i + 1])
			only = argv[i + 1];
	}
	/* the timed tests share the time; reap takes none */
	each = seconds / (!!strstr(only, "converge") + !!strstr(only, "thp") +
			  !!strstr(only, "collapse") + !!strstr(only, "hugetlb") ?: 1);
	tap_init();
	rs = xmmap_shared(4096);
	runs = xmmap_shared(sizeof(*runs));
	win_cmds = (struct win_cmd *)((char *)rs + 1024);
	if (!hm_loaded()) {
		tap_ok(false, "races: hment is loaded");
		tap_plan();
		return 1;
	}
	if (strstr(only, "reap"))
		race_reap();
	if (strstr(only, "converge"))
		race_converge(each);
	if (strstr(only, "thp"))
		race_thp(each, seed);
	if (strstr(only, "collapse"))
		race_collapse(each);
	if (strstr(only, "hugetlb"))
		race_hugetlb(each, seed);
	if (strstr(only, "leafwin"))
		race_leafwin(seed);
	if (strstr(only, "pudwin"))
		race_pudwin(seed);
	if (strstr(only, "sharewin"))
		race_sharewin();
	if (strstr(only, "ptewin"))
		race_ptewin();
	tap_ok(hm_verify(first, sizeof(first)) == 1, "races: verify ok (%s)",
	       first);
	tap_plan();
	return tap_failed() ? 1 : 0;
}
