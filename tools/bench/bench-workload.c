// SPDX-License-Identifier: GPL-2.0
/*
 * bench-workload: a tree of 64 processes holding about SIZE leaf mappings,
 * for the benchmark (tools/bench/guest.sh).
 *
 *   bench-workload [-s single] [-f STATEFILE] SIZE
 *
 * SIZE is a count of leaf mappings, with an optional K or M suffix. The
 * root forks 7 children, each of which forks 8 leaves. Of each process's
 * share M = SIZE / 64 (the "mixed" shape, the default):
 *
 *   30%  anonymous pages of the root, shared copy-on-write by all 64;
 *   20%  anonymous pages of each child, shared with its 8 leaves (the
 *        root has none);
 *   20%  a memfd (shmem) mapped MAP_SHARED by all, every page read;
 *   20%  a file on /tmp mapped MAP_PRIVATE read-only by all, every page read;
 *   10%  private anonymous pages written by each process alone;
 *   and one THP (MADV_HUGEPAGE) of each child, a PMD in it and its 8
 *   leaves: 63 PMD mappings at every size. Few, since the pagemap peer
 *   sees 512 entries for each.
 *
 * Everything else is MADV_NOHUGEPAGE: the stock kernel's THP mode is
 * "always", which would turn 4K mappings into PMDs. Sharing keeps physical
 * memory modest: 1M mappings take about 560 MB.
 *
 * "-s single" maps only private anonymous pages, M per process: every page
 * mapped once, for the memory cost of a singly mapped page.
 *
 * STATEFILE (default /tmp/bench-workload.state) gets one "pid N" line per
 * process, then "ready". SIGUSR1 to the root changes 10% of every
 * process's mappings: the first tenth of the memfd window is remapped, by
 * turns, to spare pages of the memfd and back, and read again; then
 * "changed G" is appended (G counts the changes). SIGTERM to the root ends
 * them all.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hment-user.h"

#define NPROCS		64
#define FANOUT1		7	/* children of the root */
#define FANOUT2		8	/* leaves of each child */
#define HPAGE		(2UL << 20)

struct shared {		/* a MAP_SHARED page all processes see */
	int ready;
	int changed;
	pid_t pids[NPROCS];
};

static long page_size;
static unsigned long per_proc;		/* M */
static int single;
static struct shared *sh;
static int memfd, filefd;
static unsigned long shm_pages, spare_pages, file_pages;
static char *shm_map;
static pid_t kids[FANOUT2];		/* the larger fan-out */
static_assert(FANOUT2 - FANOUT1 >= 0, "kids[] holds either fan-out");
static int nkids;
static atomic_bool got_usr1, got_usr2, got_term;	/* lock-free */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench-workload[%d]: ", getpid());
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(errno));
	exit(1);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else if (sig == SIGUSR2)
		got_usr2 = 1;
	else
		got_term = 1;
}

static unsigned long parse_size(const char *s)
{
	char *end;
	unsigned long n = strtoul(s, &end, 0);

	if (*end == 'K' || *end == 'k')
		n <<= 10;
	else if (*end == 'M' || *end == 'm')
		n <<= 20;
	return n;
}

/* Anonymous memory: @huge says THP or never THP; written, so allocated. */
static char *map_anon(unsigned long pages, int huge)
{
	unsigned long len = pages * page_size;
	char *p;

	if (!pages)
		return NULL;
	p = mmap(NULL, len + (huge ? HPAGE : 0), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap anon %lu pages", pages);
	if (huge)	/* a 2M-aligned start, so every 2M can be a PMD */
		p = (char *)(((unsigned long)p + HPAGE - 1) & ~(HPAGE - 1));
	madvise(p, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	for (unsigned long i = 0; i < pages; i++)
		p[i * page_size] = (char)(i + 1);	/* never the zero page */
	return p;
}

static void touch(const char *p, unsigned long pages)
{
	unsigned long sum = 0;

	for (unsigned long i = 0; i < pages; i++)
		sum += READ_ONCE(p[i * page_size]);
	(void)sum;
}

/* Map @pages of the memfd from page @off at @at (or anywhere) and read. */
static char *map_shm(char *at, unsigned long pages, unsigned long off)
{
	char *p = mmap(at, pages * page_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | (at ? MAP_FIXED : 0), memfd,
		       off * page_size);

	if (p == MAP_FAILED)
		die("mmap memfd");
	touch(p, pages);
	return p;
}

/* What every process maps for itself after its forks. */
static void own_setup(void)
{
	char *f;

	if (!single) {
		shm_map = map_shm(NULL, shm_pages, 0);
		f = mmap(NULL, file_pages * page_size, PROT_READ, MAP_PRIVATE,
			 filefd, 0);
		if (f == MAP_FAILED)
			die("mmap file");
		touch(f, file_pages);
	}
	map_anon(single ? per_proc : per_proc / 10, 0);
}

/* Remap the memfd window's first spare_pages: to the spares, or back. */
static void change(int gen)
{
	map_shm(shm_map, spare_pages, gen % 2 ? shm_pages : 0);
}

static void register_self(void)
{
	int slot = __atomic_fetch_add(&sh->ready, 1, __ATOMIC_SEQ_CST);

	sh->pids[slot] = getpid();
}

static void spawn(void (*child)(int), int n)
{
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (!pid) {
			nkids = 0;
			child(i);
			exit(0);
		}
		kids[nkids++] = pid;
	}
}

static void end_kids(void)
{
	for (int i = 0; i < nkids; i++)
		kill(kids[i], SIGTERM);
	for (int i = 0; i < nkids; i++)
		waitpid(kids[i], NULL, 0);
}

/* Wait for signals with them blocked between checks, so none is lost. */
static void serve(int root, const char *state)
{
	sigset_t none;
	int gen = 0;
	FILE *f;

	sigemptyset(&none);
	for (;;) {
		while (!got_usr1 && !got_usr2 && !got_term)
			sigsuspend(&none);
		if (got_term) {
			end_kids();
			exit(0);
		}
		if (got_usr2) {		/* a change, for everyone */
			got_usr2 = 0;
			gen++;
			if (!single)
				change(gen);
			__atomic_fetch_add(&sh->changed, 1, __ATOMIC_SEQ_CST);
		}
		if (root && got_usr1) {
			got_usr1 = 0;
			for (int i = 0; i < NPROCS; i++)
				if (sh->pids[i] != getpid())
					kill(sh->pids[i], SIGUSR2);
			gen++;
			if (!single)
				change(gen);
			__atomic_fetch_add(&sh->changed, 1, __ATOMIC_SEQ_CST);
			while (__atomic_load_n(&sh->changed, __ATOMIC_SEQ_CST) <
			       gen * NPROCS)
				usleep(10000);
			f = fopen(state, "a");
			if (!f)
				die("%s", state);
			fprintf(f, "changed %d\n", gen);
			fclose(f);
		}
	}
}

static void leaf(int i)
{
	(void)i;
	own_setup();
	register_self();
	serve(0, NULL);
}

static void child(int i)
{
	(void)i;
	if (!single) {	/* shared with its leaves */
		map_anon(per_proc / 5, 0);
		map_anon(HPAGE / page_size, 1);
	}
	spawn(leaf, FANOUT2);
	own_setup();
	register_self();
	serve(0, NULL);
}

int main(int argc, char **argv)
{
	const char *state = "/tmp/bench-workload.state";
	char path[] = "/tmp/bench-workload.XXXXXX", *buf;
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long size, i;
	sigset_t block;
	FILE *f;
	int opt;

	while ((opt = getopt(argc, argv, "s:f:")) != -1) {
		if (opt == 's' && !strcmp(optarg, "single"))
			single = 1;
		else if (opt == 'f')
			state = optarg;
		else if (opt != 's' || strcmp(optarg, "mixed"))
			goto usage;
	}
	if (optind != argc - 1)
		goto usage;
	size = parse_size(argv[optind]);
	page_size = sysconf(_SC_PAGESIZE);
	per_proc = size / NPROCS;
	if (per_proc < 20)
		goto usage;
	shm_pages = per_proc / 5;
	spare_pages = per_proc / 10;
	file_pages = per_proc / 5;

	/* The root's group gets the SIGUSR2s; the shell's must not. */
	setpgid(0, 0);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap shared");
	if (!single) {
		memfd = memfd_create("bench-shmem", 0);
		if (memfd < 0 ||
		    ftruncate(memfd, (shm_pages + spare_pages) * page_size))
			die("memfd");
		filefd = mkstemp(path);
		if (filefd < 0)
			die("%s", path);
		unlink(path);
		buf = calloc(1, page_size);
		for (i = 0; i < file_pages; i++) {
			memset(buf, (int)i + 1, page_size);
			if (write(filefd, buf, page_size) != page_size)
				die("write %s", path);
		}
		free(buf);
		map_anon(per_proc * 3 / 10, 0);	/* shared by all */
	}
	spawn(child, FANOUT1);
	own_setup();
	register_self();
	while (__atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST) < NPROCS)
		usleep(10000);

	f = fopen(state, "w");
	if (!f)
		die("%s", state);
	for (i = 0; i < NPROCS; i++)
		fprintf(f, "pid %d\n", sh->pids[i]);
	fprintf(f, "ready\n");
	fclose(f);
	serve(1, state);
	return 0;
usage:
	fprintf(stderr, "usage: %s [-s mixed|single] [-f STATEFILE] SIZE[K|M]\n",
		argv[0]);
	return 2;
}
