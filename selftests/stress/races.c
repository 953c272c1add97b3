// SPDX-License-Identifier: GPL-2.0
/*
 * hment-stress races [--seconds N]: the walker's races with a live kernel
 * (issue 9), each for about N/3 seconds (default 30 in all), at least one
 * round each:
 *
 *  converge  a process holds 16M it touched once and purges 4K pages
 *            elsewhere with MADV_DONTNEED without pause, as allocators do;
 *            after every single `sync pid` all of its stable pages are
 *            indexed (hment's kpagecount equals /proc/kpagecount for each);
 *  thp       THPs are faulted, zapped, split, partly zapped and remapped,
 *            and 4K pages purged beside them, while another process syncs
 *            in a loop; at quiescent points
 *            (both parked, no sync running) hment's kpagecount is never
 *            above /proc/kpagecount for any pfn of RAM;
 *  collapse  shmem (memfd) and tmpfs file pages mapped by two processes
 *            are collapsed into THPs by MADV_COLLAPSE, and khugepaged runs
 *            at full speed, while syncs of both run in a loop; at each
 *            quiescent point no pfn is over-counted and, after one sync,
 *            every page of both processes is indexed. Skipped where the
 *            kernel has no MADV_COLLAPSE;
 *  reap      an exited process leaves `track` at the next `sync pid` of
 *            another process, and within 2 s with no sync at all.
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif

#define STABLE_PAGES	4096	/* 16M */
#define PURGE_PAGES	64
#define NTHP		8
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
	unsigned long syncs, sync_err, ops, purges;
	pid_t sync_pids[2];
};

static struct race_shared *rs;
static unsigned long collapse_syncs, collapse_sync_err;

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

/* The syncer: syncs the pids in rs->sync_pids until stopped. */
static pid_t start_syncer(int slot)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	while (!__atomic_load_n(&rs->stop, __ATOMIC_RELAXED)) {
		for (int i = 0; i < 2; i++) {
			pid_t p = rs->sync_pids[i];

			park(slot);
			if (!p)
				continue;
			if (sync_pid(p))
				__atomic_add_fetch(&rs->sync_err, 1,
						   __ATOMIC_RELAXED);
			__atomic_add_fetch(&rs->syncs, 1, __ATOMIC_RELAXED);
		}
	}
	_exit(0);
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
};

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

/* Over-counted pfns of all RAM, read in blocks: kernel, then hment. */
static void compare_all_over(struct mismatch *m)
{
	static u64 kb[4096], hb[4096];
	unsigned long max = hm_max_pfn(), pfn;
	int kfd, hfd;

	if (!max || open_counts(&kfd, &hfd)) {
		m->first++;
		return;
	}
	for (pfn = 0; pfn < max; pfn += 4096) {
		size_t n = max - pfn < 4096 ? max - pfn : 4096;
		ssize_t kn = pread(kfd, kb, n * 8, pfn * 8);
		ssize_t hn = pread(hfd, hb, n * 8, pfn * 8);

		if (kn <= 0 || hn <= 0)
			break;
		n = (size_t)(kn < hn ? kn : hn) / 8;
		m->checked += n;
		for (size_t i = 0; i < n; i++) {
			if (hb[i] <= kb[i])
				continue;
			m->checked--;
			compare_pfn(kfd, hfd, pfn + i, true, m, "over-count");
		}
	}
	close(kfd);
	close(hfd);
}

/* Every present page of [p, p + len) in @pid: hment equals the kernel. */
static unsigned long compare_range(pid_t pid, const char *p, size_t len,
				   struct mismatch *m, const char *what)
{
	unsigned long pages = 0;
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
		u64 e = 0;

		if (pread(pm, &e, 8, ((unsigned long)p + off) / PAGE * 8) != 8 ||
		    !(e & PM_PRESENT))
			continue;
		pages++;
		compare_pfn(kfd, hfd, e & PM_PFN_MASK, false, m, what);
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
static void *purger(void *arg)
{
	char *purge = arg;

	for (unsigned long i = 0;; i++) {
		char *pg = purge + (i % (PURGE_PAGES / 2)) * PAGE;

		if (!(i % 64))
			*pg = 1;
		madvise(pg, PAGE, MADV_DONTNEED);
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

/* ---- thp ---- */

static void fault_in(char *t, int v)
{
	for (size_t off = 0; off < HPAGE; off += PAGE)
		t[off] = v;
}

/*
 * A thread purges 4K pages elsewhere meanwhile, as allocators do: the
 * syncer's passes race with invalidations all the time, and every undone
 * pass must read its leaf again rather than record what it read first.
 */
static void thp_child(char *base, u64 seed)
{
	char *purge = map_aligned(PURGE_PAGES * PAGE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1);
	u64 rng = seed;
	pthread_t t;

	if (!purge || pthread_create(&t, NULL, purger, purge))
		_exit(1);
	for (int s = 0; s < NTHP; s++)
		memset(base + s * HPAGE, 1, HPAGE);
	__atomic_store_n(&rs->ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		char *t = base + rng_below(&rng, NTHP) * HPAGE;
		size_t pg = rng_below(&rng, HPAGE / PAGE) * PAGE;

		park(1);
		switch (rng_below(&rng, 6)) {
		case 0:		/* zap the THP, refault a new one */
		case 1:
			madvise(t, HPAGE, MADV_DONTNEED);
			fault_in(t, 2);
			break;
		case 2:		/* split the PMD: one page read-only */
			mprotect(t + pg, PAGE, PROT_READ);
			mprotect(t + pg, PAGE, PROT_READ | PROT_WRITE);
			break;
		case 3:		/* zap one 4K page of it: splits it */
			madvise(t + pg, PAGE, MADV_DONTNEED);
			t[pg] = 3;
			break;
		case 4:		/* a new VMA in its place */
			mmap(t, HPAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			madvise(t, HPAGE, MADV_HUGEPAGE);
			fault_in(t, 4);
			break;
		default:	/* fault what is missing */
			for (size_t off = 0; off < HPAGE; off += PAGE)
				t[off] |= 1;
		}
		__atomic_add_fetch(&rs->ops, 1, __ATOMIC_RELAXED);
	}
}

static void race_thp(double seconds, u64 seed)
{
	size_t len = NTHP * HPAGE;
	unsigned long points = 0;
	struct mismatch m = { 0 };
	pid_t kids[2] = { 0, 0 };
	double t0 = now();
	char *base;

	base = map_aligned(len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1);
	if (!base || madvise(base, len, MADV_HUGEPAGE)) {
		tap_ok(false, "thp: mmap/madvise: %s", strerror(errno));
		return;
	}
	kids[0] = fork();
	if (!kids[0])
		thp_child(base, seed);
	while (!__atomic_load_n(&rs->ready, __ATOMIC_ACQUIRE))
		sleep_ms(1);
	track(kids[0]);
	rs->sync_pids[0] = kids[0];
	kids[1] = start_syncer(0);
	do {
		sleep_ms(200 + rng_below(&seed, 300));
		if (!pause_all(3)) {
			tap_diag("thp: children did not park");
			m.first++;
			break;
		}
		compare_all_over(&m);
		points++;
		resume_all();
	} while (now() - t0 < seconds || points < 3);
	tap_diag("thp: %lu syncs (%lu failed), %lu THP operations, %lu purges",
		 (unsigned long)rs->syncs, (unsigned long)rs->sync_err,
		 (unsigned long)rs->ops, (unsigned long)rs->purges);
	tap_ok(!m.first && points && rs->syncs && !rs->sync_err,
	       "thp: at %lu quiescent points no pfn is above /proc/kpagecount (%lu pfns compared; first-look %lu, persisting %lu)",
	       points, m.checked, m.first, m.persist);
	stop_children(kids, 2);
	munmap(base, len);
}

/* ---- collapse ---- */

#define COLLAPSE_DIAG	"collapse: %lu rounds, %lu syncs (%lu failed), %ld THPs collapsed, %lu kB PMD-mapped at the checks"

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

/* A mapper of the file: reads every page, again after each collapse. */
static void collapse_mapper(int fd, size_t len, int slot, char **where)
{
	char *p = map_aligned(len, PROT_READ, MAP_SHARED, fd);

	if (!p)
		_exit(1);
	madvise(p, len, MADV_HUGEPAGE);
	*where = p;	/* the parent's copy of the pointer, shared */
	for (;;) {
		park(slot);
		for (size_t off = 0; off < len; off += PAGE)
			(void)READ_ONCE(p[off]);
		if (slot == 1 && !__atomic_load_n(&rs->ready, __ATOMIC_RELAXED)) {
			/* the collapser: the file, and the other mm's tables */
			if (madvise(p, len, MADV_COLLAPSE) && errno == EINVAL)
				rs->ops = -1UL;
			__atomic_store_n(&rs->ready, 1, __ATOMIC_RELEASE);
		}
		sleep_ms(5);
	}
}

static int fill_file(int fd, size_t len)
{
	static char page[PAGE];

	if (ftruncate(fd, 0) || ftruncate(fd, len))
		return -1;
	for (size_t off = 0; off < len; off += PAGE) {
		memset(page, (int)(off / PAGE) | 1, PAGE);
		if (pwrite(fd, page, PAGE, off) != (ssize_t)PAGE)
			return -1;
	}
	return 0;
}

/* One round: fresh small pages, two mappers, a collapse under syncs. */
static int collapse_round(int fd, const char *what, struct mismatch *over,
			  struct mismatch *conv, unsigned long *pmd_mapped)
{
	size_t len = COLLAPSE_MB << 20;
	char **where = (char **)((char *)rs + 2048);
	pid_t kids[3] = { 0, 0, 0 };
	double t0;
	int i;

	if (fill_file(fd, len))
		return -1;
	for (i = 0; i < 2; i++) {
		kids[i] = fork();
		if (!kids[i])
			collapse_mapper(fd, len, 1 + i, &where[i]);
		track(kids[i]);
		rs->sync_pids[i] = kids[i];
	}
	kids[2] = start_syncer(0);
	t0 = now();
	while (!__atomic_load_n(&rs->ready, __ATOMIC_ACQUIRE) &&
	       now() - t0 < 60)
		sleep_ms(5);
	sleep_ms(100);	/* mappers refault, khugepaged works, syncs run */
	if (rs->ops == -1UL) {
		stop_children(kids, 3);
		return 1;	/* no MADV_COLLAPSE */
	}
	if (!pause_all(7)) {
		tap_diag("collapse: children did not park");
		over->first++;
	} else {
		compare_all_over(over);
		for (i = 0; i < 2; i++)
			sync_pid(kids[i]);
		for (i = 0; i < 2; i++) {
			char smaps[64], buf[65536], *s;

			compare_range(kids[i], where[i], len, conv, what);
			snprintf(smaps, sizeof(smaps), "/proc/%d/smaps_rollup",
				 kids[i]);
			read_path(smaps, buf, sizeof(buf));
			s = strstr(buf, "PmdMapped:");
			while (s) {	/* ShmemPmdMapped and FilePmdMapped */
				*pmd_mapped += strtoul(s + 10, NULL, 10);
				s = strstr(s + 10, "PmdMapped:");
			}
		}
	}
	collapse_syncs += rs->syncs;
	collapse_sync_err += rs->sync_err;
	stop_children(kids, 3);
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
	double t0 = now();
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
	do {
		rc = collapse_round(fds[rounds % 2], rounds % 2 ? "tmpfs" : "shmem",
				    &over, &conv, &pmd_kb);
		if (rc)
			break;
		rounds++;
	} while (now() - t0 < seconds || rounds < 2);
	if (rc > 0) {
		tap_ok(true, "collapse # SKIP no MADV_COLLAPSE on this kernel");
	} else {
		tap_diag(COLLAPSE_DIAG, rounds, collapse_syncs, collapse_sync_err,
			 vmstat_read("thp_collapse_alloc") - collapsed0, pmd_kb);
		tap_ok(!rc && pmd_kb && collapse_syncs && !collapse_sync_err,
		       "collapse: shmem and tmpfs pages collapsed into PMD mappings while syncs ran (%lu kB PMD-mapped)",
		       pmd_kb);
		tap_ok(!over.first,
		       "collapse: no pfn above /proc/kpagecount at %lu quiescent points (first-look %lu, persisting %lu)",
		       rounds, over.first, over.persist);
		tap_ok(!conv.first && conv.checked,
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
	double seconds = 30;
	u64 seed = 1;
	char first[512];

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--seconds"))
			seconds = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[i + 1], NULL, 0);
	}
	tap_init();
	rs = xmmap_shared(4096);
	if (!hm_loaded()) {
		tap_ok(false, "races: hment is loaded");
		tap_plan();
		return 1;
	}
	race_reap();
	race_converge(seconds / 3);
	race_thp(seconds / 3, seed);
	race_collapse(seconds / 3);
	tap_ok(hm_verify(first, sizeof(first)) == 1, "races: verify ok (%s)",
	       first);
	tap_plan();
	return tap_failed() ? 1 : 0;
}
