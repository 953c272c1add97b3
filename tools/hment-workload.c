// SPDX-License-Identifier: GPL-2.0
/*
 * hment-workload: a few processes that share memory in every way hment
 * indexes, for the demo and the selftests.
 *
 *   hment-workload [-t TMPFS_DIR] DIR
 *
 * Each process appends one "pid kind start end" line per region it maps
 * to DIR/manifest, then sleeps. DIR/ready appears once every process is
 * set up and KSM has merged (ksmd is stopped again, so that nothing
 * changes afterwards). SIGTERM to the first process ends them all.
 *
 * What is shared, as /proc/kpagecount counts it:
 *   cow	64 anonymous pages shared copy-on-write by a parent, two
 *		children and a grandchild (4); the first child rewrote 8 of
 *		them and the grandchild 4 others, after the grandchild's fork.
 *   shmem	a memfd mapped MAP_SHARED by three unrelated (exec'd) peers,
 *		the others opening it through /proc/PID/fd (3).
 *   tmpfs	a file on TMPFS_DIR mapped MAP_SHARED by the same peers (3).
 *   file	a file mapped MAP_PRIVATE and read by the peers (3); one
 *		peer wrote its first page, which is then a private copy.
 *   thp	a 2M-aligned MADV_HUGEPAGE region, fully written, shared with
 *		a child: a PMD in both (2 for each subpage).
 *   thp-split	the same, after which the parent mprotect()s one page: the
 *		parent maps it with PTEs, the child with a PMD (2).
 *   hugezero	a 2M-aligned MADV_HUGEPAGE region only read: the huge zero
 *		page, never counted (0).
 *   hugetlb	a 2M MAP_HUGETLB|MAP_SHARED page shared with the child (2).
 *   hugetlb-1g	a 1G MAP_HUGETLB|MAP_SHARED page shared with the child,
 *		PUD-mapped in both (2); only when the kernel has a free 1G
 *		page (scripts/testbox --1g), and then it must work.
 *   ksm	16 pages of 8 contents in each of two processes, merged by
 *		KSM into 8 pages (4).
 *   zero	anonymous pages only read: the zero page (0).
 *   mlock	mlock()ed pages, shared with a child that does not lock (2).
 *   mremap	pages moved and grown by mremap(), shared with a child (2).
 *   high	pages mapped above 128T where 5-level paging allows it (2).
 *
 * Sizes are small (about 7M in all): the VMs are emulated.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hment-user.h"

#define PAGE		4096UL
#define HPAGE		(2UL << 20)
#define GPAGE		BIT(30)
#define GPAGE_FREE	"/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages"

#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB	(30 << 26)	/* MAP_HUGE_SHIFT */
#endif

#define COW_PAGES	64
#define PEER_PAGES	16
#define KSM_PAGES	16
#define KSM_CONTENTS	8	/* distinct page contents in each process */
/* 2 * 16 pages merged into 8: pages_sharing counts the other 24 */
#define KSM_SHARING	(2 * KSM_PAGES - KSM_CONTENTS)
#define MISC_PAGES	16
#define HIGH_HINT	BIT(52)	/* above 4-level paging's 128T */

#define PEER_MEMFD	100	/* the owner's memfd, for /proc/PID/fd/ */
#define PEERS		3

#define READY_TIMEOUT	120	/* seconds, for setup and for KSM */

static const char *dir, *tmpfs_dir;
static int manifest_fd = -1;
static int ready_fd = -1;	/* write end: one byte per process set up */

static void __noreturn __printf(1, 2) die(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	fprintf(stderr, "hment-workload[%d]: ", getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s%s\n", err ? ": " : "", err ? strerror(err) : "");
	if (ready_fd >= 0 && write(ready_fd, "F", 1) < 0)
		exit(2);
	exit(1);
}

static void manifest_add(const char *kind, const void *start, size_t len)
{
	unsigned long s = (unsigned long)start;
	char line[128];
	int n;

	n = snprintf(line, sizeof(line), "%d %s %#lx %#lx\n", getpid(), kind,
		     s, s + len);
	/* one write() to an O_APPEND file: lines never interleave */
	if (write(manifest_fd, line, n) != n)
		die("write manifest");
}

/* Tell the first process this one is set up, then sleep until killed. */
static void __noreturn hold(void)
{
	if (write(ready_fd, "R", 1) != 1)
		die("write ready pipe");
	for (;;)
		pause();
}

/* fork(); the child dies with its parent. */
static pid_t spawn(void)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (!pid && prctl(PR_SET_PDEATHSIG, SIGKILL))
		die("PR_SET_PDEATHSIG");
	return pid;
}

static char *map_anon(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap %zu bytes", len);
	return p;
}

/*
 * A 2M-aligned read-write region between PROT_NONE guards, so that it
 * never merges with a neighbour: smaps then describes it alone.
 */
static char *map_aligned(size_t len, int advice)
{
	char *base, *p;

	base = mmap(NULL, len + 2 * HPAGE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		die("mmap guard");
	p = (char *)(((unsigned long)base + HPAGE) & ~(HPAGE - 1));
	if (mprotect(p, len, PROT_READ | PROT_WRITE))
		die("mprotect");
	if (madvise(p, len, advice))
		die("madvise %d", advice);
	return p;
}

/* Page i of [p, p + len) is filled with seed + i. */
static void fill(char *p, size_t len, int seed)
{
	size_t i;

	for (i = 0; i < len; i += PAGE)
		memset(p + i, seed + (int)(i / PAGE), PAGE);
}

static void touch_read(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += PAGE)
		(void)READ_ONCE(p[i]);
}

static void cow_tree(void)
{
	size_t len = COW_PAGES * PAGE;
	char *p = map_anon(len);

	fill(p, len, 'c');
	if (!spawn()) {
		if (!spawn()) {
			fill(p + 8 * PAGE, 4 * PAGE, 'g');
			manifest_add("cow", p, len);
			hold();
		}
		/* after the grandchild's fork: it keeps the originals */
		fill(p, 8 * PAGE, 'w');
		manifest_add("cow", p, len);
		hold();
	}
	if (!spawn()) {
		manifest_add("cow", p, len);
		hold();
	}
	manifest_add("cow", p, len);
	hold();
}

static void huge_manifest(char *thp, char *split, char *hzero, char *htlb,
			  char *gig)
{
	if (thp) {
		manifest_add("thp", thp, HPAGE);
		manifest_add("thp-split", split, HPAGE);
		manifest_add("hugezero", hzero, HPAGE);
	}
	manifest_add("hugetlb", htlb, HPAGE);
	if (gig)
		manifest_add("hugetlb-1g", gig, GPAGE);
}

static long read_long(const char *path);

/*
 * A shared 1G hugetlb page, or NULL when the kernel has none free. One
 * write faults it in whole (the kernel clears all of it): writing more
 * would only cost time under emulation.
 */
static char *map_gig(void)
{
	char *p;

	if (read_long(GPAGE_FREE) < 1)
		return NULL;
	p = mmap(NULL, GPAGE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_1GB,
		 -1, 0);
	if (p == MAP_FAILED)
		die("mmap a free 1G hugetlb page");
	*p = 'G';
	return p;
}

static void huge(void)
{
	char *thp = NULL, *split = NULL, *hzero = NULL, *htlb, *gig;

	/* PREEMPT_RT kernels have no THP: only the hugetlb kind then */
	if (!access("/sys/kernel/mm/transparent_hugepage", F_OK)) {
		thp = map_aligned(HPAGE, MADV_HUGEPAGE);
		fill(thp, HPAGE, 't');
		split = map_aligned(HPAGE, MADV_HUGEPAGE);
		fill(split, HPAGE, 's');
		hzero = map_aligned(HPAGE, MADV_HUGEPAGE);
		touch_read(hzero, HPAGE);
	}
	htlb = mmap(NULL, HPAGE, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (htlb == MAP_FAILED)
		die("mmap MAP_HUGETLB (is vm.nr_hugepages set?)");
	fill(htlb, HPAGE, 'h');
	gig = map_gig();

	if (!spawn()) {
		/* fork copies no PTEs of a shared hugetlb mapping: fault it */
		touch_read(htlb, HPAGE);
		if (gig)
			touch_read(gig, PAGE);
		huge_manifest(thp, split, hzero, htlb, gig);
		hold();
	}
	/* fork has copied the PMD: only this side is split into PTEs */
	if (split && mprotect(split + 5 * PAGE, PAGE, PROT_READ))
		die("mprotect thp-split");
	huge_manifest(thp, split, hzero, htlb, gig);
	hold();
}

static void ksm(void)
{
	size_t len = KSM_PAGES * PAGE;
	char *p;
	int i;

	spawn();	/* both sides map their own copies */
	p = map_anon(len);
	for (i = 0; i < KSM_PAGES; i++)
		memset(p + i * PAGE, 0x40 + i % KSM_CONTENTS, PAGE);
	if (madvise(p, len, MADV_MERGEABLE))
		die("MADV_MERGEABLE");
	manifest_add("ksm", p, len);
	hold();
}

static void misc_manifest(char *zero, char *locked, char *moved, char *high)
{
	manifest_add("zero", zero, MISC_PAGES * PAGE);
	manifest_add("mlock", locked, MISC_PAGES * PAGE);
	manifest_add("mremap", moved, 2 * MISC_PAGES * PAGE);
	manifest_add("high", high, MISC_PAGES * PAGE);
}

static void misc(void)
{
	size_t len = MISC_PAGES * PAGE;
	char *zero, *locked, *moved, *dst, *high;

	zero = map_anon(len);
	/* without THP (PREEMPT_RT) there is no huge zero page to avoid */
	if (madvise(zero, len, MADV_NOHUGEPAGE) && errno != EINVAL)
		die("MADV_NOHUGEPAGE");
	touch_read(zero, len);

	locked = map_anon(len);
	fill(locked, len, 'l');
	if (mlock(locked, len))
		die("mlock");

	/* moved to a place of our choosing, then grown and the rest written */
	moved = map_anon(len);
	fill(moved, len, 'm');
	dst = mmap(NULL, 2 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (dst == MAP_FAILED)
		die("mmap mremap target");
	moved = mremap(moved, len, 2 * len, MREMAP_MAYMOVE | MREMAP_FIXED,
		       dst);
	if (moved == MAP_FAILED)
		die("mremap");
	fill(moved + len, len, 'M');

	/* a hint above 128T is honoured only with 5-level paging */
	high = mmap((void *)HIGH_HINT, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (high == MAP_FAILED)
		die("mmap high");
	fill(high, len, 'H');

	if (!spawn()) {
		misc_manifest(zero, locked, moved, high);
		hold();
	}
	misc_manifest(zero, locked, moved, high);
	hold();
}

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags, 0600);

	if (fd < 0)
		die("open %s", path);
	return fd;
}

static char *map_file(int fd, int flags)
{
	char *p = mmap(NULL, PEER_PAGES * PAGE, PROT_READ | PROT_WRITE, flags,
		       fd, 0);

	if (p == MAP_FAILED)
		die("mmap file");
	return p;
}

/* The owner (role 0) creates what the other peers then open. */
static void peer_files(int role, const char *owner, int *shm, int *tmp,
		       int *priv)
{
	size_t len = PEER_PAGES * PAGE;
	char path[4096], page[PAGE];
	size_t i;

	snprintf(path, sizeof(path), "%s/hment-private", dir);
	if (role) {
		*priv = open_or_die(path, O_RDONLY);
		snprintf(path, sizeof(path), "%s/hment-shared", tmpfs_dir);
		*tmp = open_or_die(path, O_RDWR);
		snprintf(path, sizeof(path), "/proc/%s/fd/%d", owner,
			 PEER_MEMFD);
		*shm = open_or_die(path, O_RDWR);
		return;
	}
	*priv = open_or_die(path, O_RDWR | O_CREAT | O_TRUNC);
	for (i = 0; i < PEER_PAGES; i++) {
		memset(page, 'f' + (int)i, sizeof(page));
		if (write(*priv, page, sizeof(page)) != sizeof(page))
			die("write %s", path);
	}
	snprintf(path, sizeof(path), "%s/hment-shared", tmpfs_dir);
	*tmp = open_or_die(path, O_RDWR | O_CREAT | O_TRUNC);
	*shm = memfd_create("hment-shmem", 0);
	if (*shm < 0 || dup2(*shm, PEER_MEMFD) < 0)
		die("memfd");
	*shm = PEER_MEMFD;
	if (ftruncate(*tmp, len) || ftruncate(*shm, len))
		die("ftruncate");
}

/* An exec'd peer: argv is "peer ROLE OWNER-PID". */
static void peer(int role, const char *owner)
{
	size_t len = PEER_PAGES * PAGE;
	char *shm, *tmp, *priv;
	int shm_fd, tmp_fd, priv_fd;

	peer_files(role, owner, &shm_fd, &tmp_fd, &priv_fd);
	shm = map_file(shm_fd, MAP_SHARED);
	tmp = map_file(tmp_fd, MAP_SHARED);
	priv = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, priv_fd,
		    0);
	if (priv == MAP_FAILED)
		die("mmap private file");
	if (role == 0) {
		fill(shm, len, 'S');
		fill(tmp, len, 'T');
	} else {
		touch_read(shm, len);
		touch_read(tmp, len);
	}
	touch_read(priv, len);
	if (role == 1)
		fill(priv, PAGE, 'F');	/* a private copy of page 0 */
	manifest_add("shmem", shm, len);
	manifest_add("tmpfs", tmp, len);
	manifest_add("file", priv, len);
	hold();
}

static pid_t spawn_peer(int role, pid_t owner)
{
	char r[16], o[16], fd[16], exe[4096];
	pid_t pid = spawn();
	ssize_t n;

	if (pid)
		return pid;
	snprintf(r, sizeof(r), "%d", role);
	snprintf(o, sizeof(o), "%d", owner);
	snprintf(fd, sizeof(fd), "%d", ready_fd);
	/* by its own name, not /proc/self/exe, for a readable comm */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		die("readlink /proc/self/exe");
	exe[n] = '\0';
	execl(exe, "hment-workload", "-t", tmpfs_dir, "-r", fd, dir, "peer",
	      r, o, (char *)NULL);
	die("exec %s", exe);
}

/* Wait until @n processes in all have said they are set up. */
static void wait_ready(int fd, int n)
{
	static int got;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;

	while (got < n) {
		if (poll(&pfd, 1, READY_TIMEOUT * 1000) != 1)
			die("%d of %d processes set up after %ds", got, n,
			    READY_TIMEOUT);
		if (read(fd, &c, 1) != 1)
			die("read ready pipe");
		if (c != 'R') {
			errno = 0;
			die("a process failed to set up");
		}
		got++;
	}
}

static long read_long(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n = fd < 0 ? -1 : write(fd, s, strlen(s));

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/*
 * Run ksmd fast until the KSM regions are merged, then stop it: "0" keeps
 * merged pages merged, and nothing changes while the checks run.
 * Returns pages_sharing, or -1 when the kernel has no KSM.
 */
static long ksm_merge(void)
{
	const char *ksm = "/sys/kernel/mm/ksm";
	time_t end = time(NULL) + READY_TIMEOUT;
	char path[128];
	long sharing;

	snprintf(path, sizeof(path), "%s/pages_to_scan", ksm);
	if (write_str(path, "1000"))
		return -1;
	snprintf(path, sizeof(path), "%s/sleep_millisecs", ksm);
	write_str(path, "10");
	snprintf(path, sizeof(path), "%s/run", ksm);
	write_str(path, "1");
	snprintf(path, sizeof(path), "%s/pages_sharing", ksm);
	while ((sharing = read_long(path)) < KSM_SHARING && time(NULL) < end)
		usleep(50 * 1000);
	snprintf(path, sizeof(path), "%s/run", ksm);
	write_str(path, "0");
	return sharing;
}

static void write_ready(int processes, long ksm_sharing)
{
	char tmp[4096], path[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/ready.tmp", dir);
	snprintf(path, sizeof(path), "%s/ready", dir);
	f = fopen(tmp, "w");
	if (!f)
		die("create %s", tmp);
	fprintf(f, "processes %d\nksm_pages_sharing %ld\nksm_wanted %d\n",
		processes, ksm_sharing, KSM_SHARING);
	if (fclose(f) || rename(tmp, path))
		die("write %s", path);
}

static void stop_all(int sig)
{
	(void)sig;
	kill(0, SIGKILL);	/* our own process group: see main() */
}

static void __noreturn usage_exit(void)
{
	fprintf(stderr, "usage: hment-workload [-t TMPFS_DIR] DIR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static void (*const forked[])(void) = { cow_tree, huge, ksm, misc };
	/* processes each of them ends up with */
	static const int forked_procs[] = { 4, 2, 2, 2 };
	int pipefd[2], opt, n = 0;
	char path[4096];
	long sharing;
	pid_t owner;
	size_t i;

	while ((opt = getopt(argc, argv, "t:r:")) != -1) {
		if (opt == 't')
			tmpfs_dir = optarg;
		else if (opt == 'r')
			ready_fd = atoi(optarg);
		else
			usage_exit();
	}
	if (optind >= argc)
		usage_exit();
	dir = argv[optind];
	if (!tmpfs_dir)
		tmpfs_dir = dir;
	snprintf(path, sizeof(path), "%s/manifest", dir);

	if (argc - optind == 4 && !strcmp(argv[optind + 1], "peer")) {
		manifest_fd = open_or_die(path, O_WRONLY | O_APPEND);
		peer(atoi(argv[optind + 2]), argv[optind + 3]);
	}
	if (argc - optind != 1)
		usage_exit();

	/* a group of our own, so that SIGTERM can end exactly us */
	setpgid(0, 0);
	signal(SIGTERM, stop_all);
	signal(SIGINT, stop_all);
	manifest_fd = open_or_die(path, O_WRONLY | O_APPEND | O_CREAT |
				  O_TRUNC);
	if (pipe(pipefd))
		die("pipe");
	ready_fd = pipefd[1];

	for (i = 0; i < ARRAY_SIZE(forked); i++) {
		if (!spawn()) {
			close(pipefd[0]);
			forked[i]();
		}
		n += forked_procs[i];
	}
	/* the other peers open what the owner creates */
	owner = spawn_peer(0, 0);
	wait_ready(pipefd[0], ++n);
	for (i = 1; i < PEERS; i++)
		spawn_peer(i, owner);
	n += PEERS - 1;
	wait_ready(pipefd[0], n);

	sharing = ksm_merge();
	write_ready(n + 1, sharing);
	printf("hment-workload: %d processes ready, KSM pages_sharing %ld\n",
	       n + 1, sharing);
	fflush(stdout);
	for (;;)
		pause();
}
