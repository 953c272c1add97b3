// SPDX-License-Identifier: GPL-2.0
/*
 * hbench: the benchmark's userspace side, run in the guest by
 * tools/bench/guest.sh. Each command prints "key value" lines; times are
 * in ns, taken with CLOCK_MONOTONIC around the work itself.
 *
 *   hbench peer-index
 *	The peer: what a user does today. Builds the reverse index
 *	pfn -> every (pid, virtual address) from /proc/PID/maps and
 *	/proc/PID/pagemap of every process, as page-types-style tools scan
 *	(one pagemap entry per 4K page, so a THP gives 512), then sorts it
 *	by pfn into arrays (a counting sort: offsets per pfn, then entries).
 *   hbench peer-lookup SEED
 *	The peer answering "who maps pfn X" from scratch: the same full
 *	scan, keeping only X's mappers. X is a random mapped pfn (by hment's
 *	kpagecount), chosen from SEED.
 *   hbench lookup N SEED
 *	N random mapped pfns looked up through debugfs (write the pfn to
 *	lookup, read its lines); prints the mean per pfn.
 *   hbench read FILE
 *	Reads FILE to its end in 1M reads (kpagecount and /proc/kpagecount).
 *   hbench syncers 1|2 PID...
 *	Syncs each PID once ("pid N" to debugfs sync): all by one process,
 *	or split between two processes started together; prints the wall
 *	time until every sync has returned.
 *   hbench cpu 1|2
 *	A fixed amount of arithmetic in userspace, by one process or split
 *	between two: how far two vCPUs scale at all on this host (TCG, and
 *	other VMs), the ceiling for the two syncers.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hment-user.h"

#define DEBUGFS		"/sys/kernel/debug/hment/"
#define PM_PRESENT	BIT_ULL(63)
#define PM_PFN_MASK	((1ULL << 55) - 1)
#define CHUNK		(64 * 1024)	/* pagemap entries per read */

struct tuple {
	u64 pfn;
	u64 va;
	u32 pid;
};

struct mapper {
	u64 va;
	u32 pid;
};

/* The peer's scan: a callback per present page, or tuples appended. */
struct scan {
	struct tuple *t;
	size_t n, cap;
	u64 want;		/* lookup: the one pfn; ~0 to keep all */
	u64 max_pfn;
	unsigned long procs;
};

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "hbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p)
		die("out of memory");
	return p;
}

/* The whole of a /proc file, NUL-terminated; NULL if it is gone. */
static char *slurp(const char *path, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	buf = xrealloc(NULL, cap);
	while ((r = read(fd, buf + n, cap - n - 1)) > 0) {
		n += r;
		if (n + 1 == cap)
			buf = xrealloc(buf, cap *= 2);
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void add(struct scan *s, u64 pfn, u64 va, u32 pid)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1 << 20;
		s->t = xrealloc(s->t, s->cap * sizeof(*s->t));
	}
	s->t[s->n++] = (struct tuple){ .pfn = pfn, .va = va, .pid = pid };
	if (pfn > s->max_pfn)
		s->max_pfn = pfn;
}

static void scan_pid(struct scan *s, u32 pid, u64 *pm)
{
	char path[64], *maps, *line, *next;
	u64 start, end, va, e;
	size_t len, i, n;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	maps = slurp(path, &len);
	if (!maps)
		return;
	snprintf(path, sizeof(path), "/proc/%u/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		free(maps);
		return;
	}
	s->procs++;
	for (line = maps; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		if (start >= 1ULL << 63)	/* [vsyscall]: not in the mm */
			continue;
		for (va = start; va < end; va += n * 4096) {
			n = (end - va) / 4096;
			if (n > CHUNK)
				n = CHUNK;
			r = pread(fd, pm, n * 8, (va / 4096) * 8);
			if (r <= 0)
				break;
			n = r / 8;
			for (i = 0; i < n; i++) {
				e = pm[i];
				if (!(e & PM_PRESENT) || !(e & PM_PFN_MASK))
					continue;
				if (s->want == ~0ULL)
					add(s, e & PM_PFN_MASK, va + i * 4096, pid);
				else if ((e & PM_PFN_MASK) == s->want)
					add(s, s->want, va + i * 4096, pid);
			}
		}
	}
	close(fd);
	free(maps);
}

static void scan_all(struct scan *s)
{
	u64 *pm = xrealloc(NULL, CHUNK * 8);
	struct dirent *d;
	DIR *dir;

	dir = opendir("/proc");
	if (!dir)
		die("/proc");
	while ((d = readdir(dir)))
		if (isdigit((unsigned char)d->d_name[0]))
			scan_pid(s, strtoul(d->d_name, NULL, 10), pm);
	closedir(dir);
	free(pm);
}

static int peer_index(void)
{
	struct scan s = { .want = ~0ULL };
	struct mapper *by_pfn;
	u32 *start;
	u64 t0, t1, pfns = 0, p;
	size_t i;

	t0 = now_ns();
	scan_all(&s);
	t1 = now_ns();
	/* counting sort by pfn: start[pfn] .. start[pfn + 1] are its mappers */
	start = calloc(s.max_pfn + 2, sizeof(*start));
	by_pfn = malloc((s.n + 1) * sizeof(*by_pfn));
	if (!start || !by_pfn)
		die("out of memory");
	for (i = 0; i < s.n; i++)
		start[s.t[i].pfn + 1]++;
	for (p = 0; p <= s.max_pfn; p++) {
		pfns += start[p + 1] != 0;
		start[p + 1] += start[p];
	}
	for (i = 0; i < s.n; i++)
		by_pfn[start[s.t[i].pfn]++] =
			(struct mapper){ .va = s.t[i].va, .pid = s.t[i].pid };
	printf("ns %llu\n", (unsigned long long)(now_ns() - t0));
	printf("scan_ns %llu\n", (unsigned long long)(t1 - t0));
	printf("procs %lu\n", s.procs);
	printf("tuples %zu\n", s.n);
	printf("pfns %llu\n", (unsigned long long)pfns);
	free(by_pfn);
	free(start);
	free(s.t);
	return 0;
}

/* Mapped pfns by hment's kpagecount, and a pseudo-random pick of them. */
static u64 *mapped_pfns(size_t *n)
{
	u64 *cnt, *pfns = NULL;
	size_t len, i, cap = 0;
	char *raw;

	raw = slurp(DEBUGFS "kpagecount", &len);
	if (!raw)
		die(DEBUGFS "kpagecount");
	cnt = (u64 *)raw;
	*n = 0;
	for (i = 0; i < len / 8; i++) {
		if (!cnt[i])
			continue;
		if (*n == cap)
			pfns = xrealloc(pfns, (cap = cap ? cap * 2 : 4096) * 8);
		pfns[(*n)++] = i;
	}
	free(raw);
	if (!*n) {
		errno = ENOENT;
		die("no mapped pfn in " DEBUGFS "kpagecount");
	}
	return pfns;
}

static u64 pick(u64 *seed, const u64 *pfns, size_t n)
{
	*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return pfns[(*seed >> 17) % n];
}

static int peer_lookup(u64 seed)
{
	struct scan s = { 0 };
	u64 *pfns, t0;
	size_t n;

	pfns = mapped_pfns(&n);
	s.want = pick(&seed, pfns, n);
	free(pfns);
	t0 = now_ns();
	scan_all(&s);
	printf("ns %llu\n", (unsigned long long)(now_ns() - t0));
	printf("pfn %llu\n", (unsigned long long)s.want);
	printf("hits %zu\n", s.n);
	free(s.t);
	return 0;
}

static int run_lookups(unsigned long count, u64 seed)
{
	u64 *pfns, t0, total = 0, lines = 0;
	char buf[1 << 16], cmd[32];
	size_t n, i;
	ssize_t r;
	int wfd, rfd;

	pfns = mapped_pfns(&n);
	t0 = now_ns();
	wfd = open(DEBUGFS "lookup", O_WRONLY);
	if (wfd < 0)
		die(DEBUGFS "lookup");
	for (i = 0; i < count; i++) {
		int len = snprintf(cmd, sizeof(cmd), "%llu",
				   (unsigned long long)pick(&seed, pfns, n));

		if (write(wfd, cmd, len) != len)
			die("write lookup");
		rfd = open(DEBUGFS "lookup", O_RDONLY);
		if (rfd < 0)
			die(DEBUGFS "lookup");
		while ((r = read(rfd, buf, sizeof(buf))) > 0)
			for (ssize_t j = 0; j < r; j++)
				lines += buf[j] == '\n';
		if (r < 0)
			die("read lookup");
		close(rfd);
	}
	close(wfd);
	total = now_ns() - t0;
	printf("ns %llu\n", (unsigned long long)(total / count));
	printf("lookups %lu\n", count);
	printf("hits %llu\n", (unsigned long long)lines);
	free(pfns);
	return 0;
}

static int read_file(const char *path)
{
	static char buf[1 << 20];
	u64 t0, bytes = 0;
	ssize_t r;
	int fd;

	t0 = now_ns();
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		bytes += r;
	if (r < 0)
		die(path);
	close(fd);
	printf("ns %llu\n", (unsigned long long)(now_ns() - t0));
	printf("bytes %llu\n", (unsigned long long)bytes);
	return 0;
}

/* Sync every @step-th pid from @first; exits non-zero on a failed write. */
static void sync_some(char **pids, int n, int first, int step)
{
	char cmd[32];
	int fd, len;

	fd = open(DEBUGFS "sync", O_WRONLY);
	if (fd < 0)
		die(DEBUGFS "sync");
	for (int i = first; i < n; i += step) {
		len = snprintf(cmd, sizeof(cmd), "pid %s", pids[i]);
		if (write(fd, cmd, len) != len)
			die("write sync");
	}
	close(fd);
}

static int run_syncers(int nsync, char **pids, int n)
{
	int go[2], status, failed = 0;
	pid_t kid[2];
	u64 t0;
	char c;

	if (pipe(go))
		die("pipe");
	for (int k = 0; k < nsync; k++) {
		kid[k] = fork();
		if (kid[k] < 0)
			die("fork");
		if (!kid[k]) {	/* wait for the start, then sync our share */
			close(go[1]);
			if (read(go[0], &c, 1) != 0)
				exit(1);
			sync_some(pids, n, k, nsync);
			exit(0);
		}
	}
	close(go[0]);
	usleep(100000);		/* both parked on the pipe */
	t0 = now_ns();
	close(go[1]);
	for (int k = 0; k < nsync; k++) {
		waitpid(kid[k], &status, 0);
		failed |= !WIFEXITED(status) || WEXITSTATUS(status);
	}
	printf("ns %llu\n", (unsigned long long)(now_ns() - t0));
	printf("syncers %d\n", nsync);
	printf("mms %d\n", n);
	return failed;
}

static int cpu(int nproc)
{
	const u64 work = 16 * 1000 * 1000;
	pid_t kid[2];
	u64 t0;

	t0 = now_ns();
	for (int k = 0; k < nproc; k++) {
		kid[k] = fork();
		if (kid[k] < 0)
			die("fork");
		if (!kid[k]) {
			/* in memory, each step a load and a store */
			u64 x = k;

			for (u64 i = 0; i < work / nproc; i++)
				WRITE_ONCE(x, READ_ONCE(x) * 6364136223846793005ULL + 1);
			exit(0);
		}
	}
	for (int k = 0; k < nproc; k++)
		waitpid(kid[k], NULL, 0);
	printf("ns %llu\n", (unsigned long long)(now_ns() - t0));
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "peer-index") && argc == 2)
		return peer_index();
	if (!strcmp(cmd, "peer-lookup") && argc == 3)
		return peer_lookup(strtoull(argv[2], NULL, 0));
	if (!strcmp(cmd, "lookup") && argc == 4)
		return run_lookups(strtoul(argv[2], NULL, 0),
				   strtoull(argv[3], NULL, 0));
	if (!strcmp(cmd, "read") && argc == 3)
		return read_file(argv[2]);
	if (!strcmp(cmd, "syncers") && argc >= 4 &&
	    (!strcmp(argv[2], "1") || !strcmp(argv[2], "2")))
		return run_syncers(atoi(argv[2]), argv + 3, argc - 3);
	if (!strcmp(cmd, "cpu") && argc == 3 &&
	    (!strcmp(argv[2], "1") || !strcmp(argv[2], "2")))
		return cpu(atoi(argv[2]));
	fprintf(stderr, "usage: hbench peer-index | peer-lookup SEED | %s\n",
		"lookup N SEED | read FILE | syncers 1|2 PID... | cpu 1|2");
	return 2;
}
