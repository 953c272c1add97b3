// SPDX-License-Identifier: GPL-2.0
/*
 * hment-check: hment's debugfs answers against the kernel's own, in TAP.
 *
 *   hment-check DIR	(DIR: a running hment-workload's manifest and ready)
 *
 * The kernel's truth is /proc/kpagecount for how often a pfn is mapped,
 * /proc/PID/pagemap for where (root sees pfns), and /proc/PID/smaps for
 * how (PMD-mapped THP, hugetlb page size, mlock). The checks:
 *
 *  - after a sync, hment's kpagecount equals /proc/kpagecount for every
 *    pfn of RAM, and per workload kind for every pfn a process maps;
 *  - the workload really shares what it claims to (else the comparison
 *    would prove little);
 *  - lookup lists exactly the (pid, address) pairs pagemap shows for
 *    sampled pfns of each kind, at the level smaps implies;
 *  - between syncs (munmap, mremap, MADV_DONTNEED, a COW break, a process
 *    exit) the index drops what went away at once and learns what is new
 *    only at the next sync, and never claims more than the kernel;
 *  - sync, track, histogram, verify, bad writes and the kernel hat;
 *  - the workload's 1G hugetlb page (the box boots with one: testbox
 *    --1g): one aligned 1G page, each pfn counted, looked up at level 2.
 *
 * A mismatch may be a race (a page migrated, a process started or ended),
 * so mismatches are looked at again after another sync, and only those
 * seen twice fail. Nothing else should run meanwhile, and this program
 * makes no mapping while it compares: its buffers are mapped and touched
 * before the first sync.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hment-user.h"

#define HMENT		"/sys/kernel/debug/hment/"
#define PAGE		4096UL
#define HPAGE_PAGES	512UL

#define PM_PRESENT	BIT_ULL(63)
#define PM_PFN_MASK	((1ULL << 55) - 1)

#define MAX_ENTRIES	(1024 * 1024)	/* present pagemap entries, all pids */
#define MAX_VMAS	8192
#define MAX_RANGES	256
#define MAX_KINDS	32
#define MAX_BAD		4096		/* mismatches kept for a re-check */
#define MAX_HITS	4096		/* lines of one lookup */
#define MAX_SAMPLES	5		/* lookups per kind */
#define MAX_DIAG	8		/* examples printed per failure */
#define TEXT_SIZE	(2 << 20)
#define PM_CHUNK	8192		/* pagemap entries per read */

/* One present pagemap entry: @pid maps @pfn at @va. */
struct entry {
	u64 va;
	u64 pfn;
	s32 pid;
	s32 vma;
	s32 next;		/* next entry of the same pfn, or -1 */
	s32 kind;
};

struct vma {
	u64 start, end;
	int pid;
	int kind;		/* the manifest's, or kind_other */
	unsigned long kps_kb, pmd_kb;
	int locked;		/* VM_LOCKED */
};

struct range {
	int pid, kind;
	u64 start, end;
};

struct kind {
	const char *name;
	unsigned long want;	/* the most-mapped pfn's count, at least */
	unsigned long pfns, agreed, mappings, max_count;
};

#define KIND(n, w)	{ .name = (n), .want = (w) }

/* The workload's kinds and the sharing it sets up (hment-workload.c). */
static struct kind kinds[MAX_KINDS] = {
	KIND("cow", 4), KIND("shmem", 3), KIND("tmpfs", 3), KIND("file", 3),
	KIND("thp", 2), KIND("thp-split", 2), KIND("hugetlb", 2),
	KIND("ksm", 4), KIND("zero", 0), KIND("hugezero", 0),
	KIND("mlock", 2), KIND("mremap", 2), KIND("high", 2),
	KIND("hugetlb-1g", 2), KIND("other", 0),
};

static int nkinds = 15, kind_other = 14;

/* PREEMPT_RT kernels have no THP: the workload maps none of these kinds. */
static int no_thp(void)
{
	return !!access("/sys/kernel/mm/transparent_hugepage", F_OK);
}

static int no_thp_kind(int ki)
{
	const char *n = kinds[ki].name;

	return no_thp() && (!strcmp(n, "thp") || !strcmp(n, "thp-split") ||
			    !strcmp(n, "hugezero"));
}

static unsigned long max_pfn;
static u64 *kcount, *hcount;	/* /proc/kpagecount, hment's */
static s32 *head;			/* per pfn: its first entry, or -1 */
static struct entry *ents;
static int nents;
static u64 *pfns;			/* pfns in entries, each once */
static s32 *pfn_kind;		/* and each one's kind */
static int npfns;
static struct vma *vmas;
static int nvmas;
static struct range ranges[MAX_RANGES];
static int nranges;
static u64 bad[MAX_BAD];		/* mismatched twice in a row */
static int nbad;
static char *text, *text2;		/* file contents */
static u64 *pmbuf;
static int self;
static int tests, failures;
static char outbuf[1 << 16];

static void __printf(2, 3) ok(int pass, const char *fmt, ...)
{
	va_list ap;

	tests++;
	if (!pass)
		failures++;
	printf("%sok %d - ", pass ? "" : "not ", tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void __printf(1, 2) diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Each line of @s as a diagnostic. */
static void diag_lines(const char *s)
{
	const char *nl;

	for (; *s; s = nl + 1) {
		nl = strchr(s, '\n');
		if (!nl)
			nl = s + strlen(s) - 1;
		diag("  %.*s", (int)(nl - s), s);
	}
}

static void __noreturn __printf(1, 2) bail(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	fputs("Bail out! ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("%s%s\n", err ? ": " : "", err ? strerror(err) : "");
	exit(1);
}

/* Mapped and written now, so that using it later maps nothing new. */
static void *prefault(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		bail("mmap %zu bytes", size);
	memset(p, 0, size);
	return p;
}

static noinline void prefault_stack(void)
{
	char stack[256 << 10];

	memset(stack, 0, sizeof(stack));
	barrier_data(stack);
}

/* ---- files ---- */

/* The whole file, NUL-terminated; its length or -errno. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	while ((size_t)len < size - 1 &&
	       (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	if (n < 0)
		len = -errno;
	close(fd);
	buf[len > 0 ? len : 0] = '\0';
	return len;
}

/* 0 or -errno. */
static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		err = -errno;
	close(fd);
	return err;
}

/* The value on the line "NAME VALUE" of @s, or -1. */
static long field(const char *s, const char *name)
{
	size_t len = strlen(name);

	for (; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : s)
		if (!strncmp(s, name, len) && s[len] == ' ')
			return strtol(s + len + 1, NULL, 0);
	return -1;
}

static void read_counts(const char *path, u64 *count)
{
	size_t size = max_pfn * sizeof(*count), done = 0;
	ssize_t n = 1;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		bail("open %s", path);
	while (done < size && (n = pread(fd, (char *)count + done,
					 size - done, done)) > 0)
		done += n;
	if (n < 0)
		bail("read %s", path);
	close(fd);
	/* a shorter file has no counts past its end */
	memset((char *)count + done, 0, size - done);
}

/* The kernel's first: whatever unmaps in between lowers hment's too. */
static void read_all_counts(void)
{
	read_counts("/proc/kpagecount", kcount);
	read_counts(HMENT "kpagecount", hcount);
}

static u64 count_of(const char *path, u64 pfn)
{
	u64 v = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || pread(fd, &v, sizeof(v), pfn * sizeof(v)) != sizeof(v))
		bail("read %s at pfn %#lx", path, (unsigned long)pfn);
	close(fd);
	return v;
}

struct sync_stats {
	long duration_ns, hats, tables, entries, added, removed, errors;
};

static void sync_now(struct sync_stats *st)
{
	int err = write_file(HMENT "sync", "1");

	if (err) {
		errno = -err;
		bail("echo 1 > sync");
	}
	if (!st)
		return;
	if (read_file(HMENT "sync", text2, TEXT_SIZE) < 0)
		bail("read sync");
	st->duration_ns = field(text2, "duration_ns");
	st->hats = field(text2, "hats");
	st->tables = field(text2, "tables");
	st->entries = field(text2, "entries");
	st->added = field(text2, "added");
	st->removed = field(text2, "removed");
	st->errors = field(text2, "errors");
}

/* ---- the workload's manifest ---- */

static int kind_index(const char *name)
{
	int i;

	for (i = 0; i < nkinds; i++)
		if (!strcmp(kinds[i].name, name))
			return i;
	if (nkinds == MAX_KINDS)
		bail("too many kinds");
	kinds[nkinds].name = strdup(name);
	return nkinds++;
}

static int kind_at(int pid, u64 va)
{
	int i;

	for (i = 0; i < nranges; i++)
		if (ranges[i].pid == pid && va >= ranges[i].start &&
		    va < ranges[i].end)
			return ranges[i].kind;
	return kind_other;
}

static void load_manifest(const char *dir)
{
	char path[4096], kind[64], *s;
	unsigned long long start, end;
	int pid;

	snprintf(path, sizeof(path), "%s/manifest", dir);
	if (read_file(path, text, TEXT_SIZE) < 0)
		bail("read %s", path);
	for (s = text; *s; s = strchr(s, '\n') + 1) {
		if (sscanf(s, "%d %63s %llx %llx", &pid, kind, &start,
			   &end) != 4)
			bail("bad manifest line: %.60s", s);
		if (nranges == MAX_RANGES)
			bail("manifest too long");
		ranges[nranges++] = (struct range) {
			.pid = pid, .kind = kind_index(kind),
			.start = start, .end = end,
		};
		if (!strchr(s, '\n'))
			break;
	}
}

/* ---- what every process maps: smaps and pagemap ---- */

static void add_entry(int pid, u64 va, u64 pfn, int vma)
{
	struct entry *e;

	if (nents == MAX_ENTRIES)
		bail("more than %d mapped pages", MAX_ENTRIES);
	e = &ents[nents];
	*e = (struct entry) {
		.va = va, .pfn = pfn, .pid = pid, .vma = vma,
		.next = head[pfn], .kind = kind_at(pid, va),
	};
	if (head[pfn] < 0)
		pfns[npfns++] = pfn;
	head[pfn] = nents++;
}

static void read_pagemap(int fd, int v)
{
	struct vma *m = &vmas[v];
	u64 va, pfn, n, i;
	ssize_t got;

	for (va = m->start; va < m->end; va += n * PAGE) {
		n = (m->end - va) / PAGE;
		if (n > PM_CHUNK)
			n = PM_CHUNK;
		got = pread(fd, pmbuf, n * 8, va / PAGE * 8);
		if (got <= 0)
			return;		/* exiting */
		n = got / 8;
		for (i = 0; i < n; i++) {
			if (!(pmbuf[i] & PM_PRESENT))
				continue;
			pfn = pmbuf[i] & PM_PFN_MASK;
			if (!pfn)
				bail("pagemap hides pfns: not root?");
			if (pfn < max_pfn)	/* else device memory */
				add_entry(m->pid, va + i * PAGE, pfn, v);
		}
	}
}

static int vma_kind(int pid, u64 start, u64 end)
{
	int i;

	for (i = 0; i < nranges; i++)
		if (ranges[i].pid == pid && start < ranges[i].end &&
		    end > ranges[i].start)
			return ranges[i].kind;
	return kind_other;
}

/* smaps: one "start-end perms ..." line per VMA, then "Name: N kB" lines. */
static void parse_smaps(int pid)
{
	unsigned long long start, end;
	struct vma *m = NULL;
	unsigned long kb;
	char *s, *nl;

	for (s = text; *s; s = strchr(s, '\n') + 1) {
		if (sscanf(s, "%llx-%llx ", &start, &end) == 2 &&
		    strchr(s, '-') < strchr(s, ' ')) {
			if (nvmas == MAX_VMAS)
				bail("more than %d VMAs", MAX_VMAS);
			m = &vmas[nvmas++];
			*m = (struct vma) {
				.start = start, .end = end, .pid = pid,
				.kind = vma_kind(pid, start, end),
			};
		} else if (m && sscanf(s, "KernelPageSize: %lu", &kb) == 1) {
			m->kps_kb = kb;
		} else if (m && (sscanf(s, "AnonHugePages: %lu", &kb) == 1 ||
				 sscanf(s, "ShmemPmdMapped: %lu", &kb) == 1 ||
				 sscanf(s, "FilePmdMapped: %lu", &kb) == 1)) {
			m->pmd_kb += kb;
		} else if (m && !strncmp(s, "VmFlags:", 8)) {
			/* smaps' Locked is proportional: use the flag */
			nl = strchr(s, '\n');
			m->locked = (nl ? memmem(s, nl - s, " lo", 3) :
				     strstr(s, " lo")) != NULL;
		}
		if (!strchr(s, '\n'))
			break;
	}
}

/* Returns how many VMAs @pid has (0: a kernel thread or gone). */
static int collect_pid(int pid)
{
	char path[64];
	int fd, v, first = nvmas;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	n = read_file(path, text, TEXT_SIZE);
	if (n <= 0)
		return 0;
	if (n >= TEXT_SIZE - 1)
		bail("%s is larger than %d bytes", path, TEXT_SIZE);
	parse_smaps(pid);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	for (v = first; v < nvmas; v++)
		if (vmas[v].start < 0xffff800000000000ULL) /* not vsyscall */
			read_pagemap(fd, v);
	close(fd);
	return nvmas - first;
}

struct linux_dirent64 {
	u64 d_ino;
	s64 d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Call @fn for every pid in /proc; without opendir(), which mallocs. */
static void scan_pids(void (*fn)(int pid, void *arg), void *arg)
{
	static char buf[1 << 16];
	struct linux_dirent64 *d;
	int fd = open("/proc", O_RDONLY | O_DIRECTORY);
	long n, off;

	if (fd < 0)
		bail("open /proc");
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += d->d_reclen) {
			d = (struct linux_dirent64 *)(buf + off);
			if (d->d_name[0] >= '1' && d->d_name[0] <= '9')
				fn(atoi(d->d_name), arg);
		}
	}
	close(fd);
}

static int user_pids[4096], nuser_pids;

static void collect_one(int pid, void *arg)
{
	(void)arg;
	if (collect_pid(pid) && nuser_pids < 4096)
		user_pids[nuser_pids++] = pid;
}

/* A pfn of several kinds goes to the first in the table. */
static int pfn_kind_of(u64 pfn)
{
	int e, k = kind_other;

	for (e = head[pfn]; e >= 0; e = ents[e].next)
		if (ents[e].kind != kind_other &&
		    (k == kind_other || ents[e].kind < k))
			k = ents[e].kind;
	return k;
}

/* Every process's mappings, and each mapped pfn's kind. */
static void collect(void)
{
	int i;

	for (i = 0; i < npfns; i++)
		head[pfns[i]] = -1;
	nents = 0;
	npfns = 0;
	nvmas = 0;
	nuser_pids = 0;
	scan_pids(collect_one, NULL);
	for (i = 0; i < npfns; i++)
		pfn_kind[i] = pfn_kind_of(pfns[i]);
}

/* ---- kpagecount ---- */

static int is_bad(u64 pfn)
{
	int lo = 0, hi = nbad;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (bad[mid] == pfn)
			return 1;
		if (bad[mid] < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Fills @list (ascending, at most MAX_BAD) and returns how many differ. */
static unsigned long mismatches(u64 *list, int *n)
{
	unsigned long pfn, diff = 0;

	*n = 0;
	for (pfn = 0; pfn < max_pfn; pfn++) {
		if (kcount[pfn] == hcount[pfn])
			continue;
		if (*n < MAX_BAD)
			list[(*n)++] = pfn;
		diff++;
	}
	return diff;
}

static void describe_pfn(u64 pfn)
{
	char who[256] = "";
	size_t len = 0;
	int e, shown = 0;

	for (e = head[pfn]; e >= 0; e = ents[e].next) {
		if (++shown > 4) {
			strcat(who, " ...");
			break;
		}
		len += snprintf(who + len, sizeof(who) - len, " %d@%#lx",
				ents[e].pid, (unsigned long)ents[e].va);
	}
	diag("pfn %#lx %s: kernel %lu, hment %lu;%s", (unsigned long)pfn,
	     head[pfn] >= 0 ? kinds[pfn_kind_of(pfn)].name : "(unmapped)",
	     (unsigned long)kcount[pfn], (unsigned long)hcount[pfn],
	     head[pfn] >= 0 ? who : " no process maps it");
}

static struct sync_stats last_sync;

/*
 * Sync, read everything and compare every pfn of RAM. Mismatches are
 * looked at again after another sync; those seen both times go to bad[].
 */
static void compare_round(const char *when)
{
	static u64 first[MAX_BAD], again[MAX_BAD];
	unsigned long diff, diff2;
	int n1, n2, i, j = 0;

	sync_now(&last_sync);
	collect();
	read_all_counts();
	nbad = 0;
	diff = mismatches(first, &n1);
	if (!diff)
		return;
	diag("%s: %lu pfns differ; syncing again to rule out races", when,
	     diff);
	sync_now(&last_sync);
	collect();
	read_all_counts();
	diff2 = mismatches(again, &n2);
	for (i = 0; i < n2; i++) {
		while (j < n1 && first[j] < again[i])
			j++;
		/* when the first look overflowed, every one counts */
		if (diff > MAX_BAD || (j < n1 && first[j] == again[i]))
			bad[nbad++] = again[i];
	}
	diag("%s, again: %lu pfns differ, %d of them both times", when,
	     diff2, nbad);
}

static void report_counts(void)
{
	unsigned long unmapped = 0;
	struct kind *k;
	int i, e, shown;

	for (i = 0; i < nkinds; i++) {
		k = &kinds[i];
		k->pfns = 0;
		k->agreed = 0;
		k->mappings = 0;
		k->max_count = 0;
	}
	for (i = 0; i < npfns; i++) {
		k = &kinds[pfn_kind[i]];
		k->pfns++;
		k->agreed += !is_bad(pfns[i]);
		for (e = head[pfns[i]]; e >= 0; e = ents[e].next)
			k->mappings++;
		if (kcount[pfns[i]] > k->max_count)
			k->max_count = kcount[pfns[i]];
	}
	for (i = 0; i < nbad; i++)
		unmapped += head[bad[i]] < 0;

	ok(!nbad,
	   "kpagecount: all %lu pfns of RAM as in /proc/kpagecount (%d mapped by %d processes)",
	   max_pfn, npfns, nuser_pids);
	for (i = shown = 0; i < nbad && shown < MAX_DIAG; i++)
		if (head[bad[i]] < 0 && ++shown)
			describe_pfn(bad[i]);
	if (unmapped)
		diag("%lu pfns that no process maps differ", unmapped);

	for (i = 0; i < nkinds; i++) {
		k = &kinds[i];
		if (no_thp_kind(i)) {
			ok(1, "kpagecount %s # SKIP no THP", k->name);
			continue;
		}
		ok(k->pfns && k->agreed == k->pfns,
		   "kpagecount %s: %lu of %lu pfns agree (%lu mappings)",
		   k->name, k->agreed, k->pfns, k->mappings);
		for (e = shown = 0; e < nbad && shown < MAX_DIAG; e++)
			if (head[bad[e]] >= 0 && pfn_kind_of(bad[e]) == i &&
			    ++shown)
				describe_pfn(bad[e]);
	}
}

/* ---- does the workload share what it says? ---- */

static int has_la57(void)
{
	if (read_file("/proc/cpuinfo", text2, TEXT_SIZE) < 0)
		bail("read /proc/cpuinfo");
	return !!strstr(text2, " la57");
}

static void workload_why(int ki, char *why, size_t size)
{
	unsigned long n = 0, pmd = 0, pte = 0, huge_kps = 0, locked = 0;
	unsigned long low = 0, len;
	const struct kind *k = &kinds[ki];
	const char *name = k->name;
	int v;

	for (v = 0; v < nvmas; v++) {
		if (vmas[v].kind != ki)
			continue;
		len = vmas[v].end - vmas[v].start;
		n++;
		pmd += vmas[v].pmd_kb * 1024 == len;
		pte += !vmas[v].pmd_kb;
		huge_kps += vmas[v].kps_kb == 2048;
		locked += vmas[v].locked;
		low += vmas[v].start < (1ULL << 47);
	}
	*why = '\0';
	if (!k->pfns)
		snprintf(why, size, "maps no pfn");
	else if (k->want && k->max_count < k->want)
		snprintf(why, size, "the most-mapped pfn has %lu mappings, want %lu",
			 k->max_count, k->want);
	else if (!k->want && k->max_count)
		snprintf(why, size, "a pfn has %lu mappings, want 0",
			 k->max_count);
	else if (!strcmp(name, "thp") && (n < 2 || pmd != n))
		snprintf(why, size,
			 "%lu of %lu VMAs are PMD-mapped (smaps AnonHugePages), want all of 2 or more",
			 pmd, n);
	else if (!strcmp(name, "thp-split") && (!pmd || !pte))
		snprintf(why, size, "%lu VMAs PMD-mapped and %lu PTE-mapped, want both kinds",
			 pmd, pte);
	else if (!strcmp(name, "hugetlb") && huge_kps != n)
		snprintf(why, size, "%lu of %lu VMAs have 2048 kB pages",
			 huge_kps, n);
	else if (!strcmp(name, "mlock") && !locked)
		snprintf(why, size, "no VMA is locked (smaps VmFlags lo)");
	else if (!strcmp(name, "high") && low && has_la57())
		snprintf(why, size, "%lu VMAs below 128T with 5-level paging",
			 low);
	else if (!strcmp(name, "zero") && k->pfns != 1)
		snprintf(why, size, "%lu pfns, want only the zero page",
			 k->pfns);
	else if (!strcmp(name, "hugezero") && k->pfns != HPAGE_PAGES)
		snprintf(why, size, "%lu pfns, want the huge zero page's %lu",
			 k->pfns, HPAGE_PAGES);
}

static void check_workload(void)
{
	char why[160];
	int i;

	for (i = 0; i < nkinds; i++) {
		if (i == kind_other)
			continue;
		if (no_thp_kind(i)) {
			ok(1, "workload %s # SKIP no THP", kinds[i].name);
			continue;
		}
		workload_why(i, why, sizeof(why));
		ok(!*why,
		   "workload %s: %lu pfns, %lu mappings, most-mapped pfn mapped %lu times",
		   kinds[i].name, kinds[i].pfns, kinds[i].mappings,
		   kinds[i].max_count);
		if (*why)
			diag("%s: %s", kinds[i].name, why);
	}
}

/* ---- lookup ---- */

struct hit {
	int pid;
	u64 va;
	int level;
	int matched;
};

static struct hit hits[MAX_HITS];

/* Parse lookup's output in text2 into hits[]: how many, or -EBADMSG. */
static int parse_hits(void)
{
	unsigned long long va;
	int n = 0, pid, level;
	char *p;

	for (p = text2; *p && n < MAX_HITS; p++) {
		if (sscanf(p, "%d %llx %d", &pid, &va, &level) != 3)
			return -EBADMSG;
		hits[n++] = (struct hit) { .pid = pid, .va = va,
					   .level = level };
		p = strchr(p, '\n');
		if (!p)
			break;
	}
	return n;
}

/* Lookup @pfn into hits[]: how many lines, or -errno. */
static int lookup(u64 pfn)
{
	char s[32];
	int err;

	snprintf(s, sizeof(s), "%#llx", (unsigned long long)pfn);
	err = write_file(HMENT "lookup", s);
	if (err)
		return err;
	if (read_file(HMENT "lookup", text2, TEXT_SIZE) < 0)
		return -errno;
	return parse_hits();
}

/* The level smaps implies for a VMA's mappings; -1 when it cannot tell. */
static int vma_level(const struct vma *m)
{
	unsigned long len = m->end - m->start;

	if (m->kps_kb == 2048)
		return 1;
	if (m->kps_kb == 1 << 20)
		return 2;
	if (!m->pmd_kb)
		return 0;
	return m->pmd_kb * 1024 == len ? 1 : -1;
}

struct levels {
	unsigned long pmd, pte, either, wrong;
};

/*
 * Does lookup @pfn list exactly the mappings pagemap shows (none when the
 * kernel does not count the pfn), at the levels smaps implies? Returns
 * the number of differences; adds the mappings listed to *@listed.
 */
static int check_lookup(u64 pfn, struct levels *lv, int *listed)
{
	int n = lookup(pfn), e, i, diffs = 0, want;
	struct hit *h;

	if (n < 0) {
		diag("lookup %#lx: %s", (unsigned long)pfn, strerror(-n));
		return 1;
	}
	*listed += n;
	for (e = kcount[pfn] ? head[pfn] : -1; e >= 0; e = ents[e].next) {
		for (i = 0, h = NULL; i < n && !h; i++)
			if (!hits[i].matched && hits[i].pid == ents[e].pid &&
			    hits[i].va == ents[e].va)
				h = &hits[i];
		if (!h) {
			diag("lookup %#lx: lacks %d %#lx", (unsigned long)pfn,
			     ents[e].pid, (unsigned long)ents[e].va);
			diffs++;
			continue;
		}
		h->matched = 1;
		want = vma_level(&vmas[ents[e].vma]);
		if (h->level < 0 || h->level > 2 ||
		    (want >= 0 && h->level != want)) {
			diag("lookup %#lx: %d %#lx at level %d, smaps implies %d",
			     (unsigned long)pfn, h->pid, (unsigned long)h->va,
			     h->level, want);
			lv->wrong++;
		} else if (want < 0) {
			lv->either++;
		} else if (want) {
			lv->pmd++;
		} else {
			lv->pte++;
		}
	}
	for (i = 0; i < n; i++) {
		if (hits[i].matched)
			continue;
		diag("lookup %#lx: lists %d %#lx, which pagemap does not%s",
		     (unsigned long)pfn, hits[i].pid,
		     (unsigned long)hits[i].va,
		     kcount[pfn] ? " show" : " count (kpagecount 0)");
		diffs++;
	}
	return diffs;
}

/* A few pfns of kind @ki: first, a third, half, last, the most mapped. */
static int sample(int ki, u64 *out)
{
	int i, n = 0, pos = 0, best = -1, picks[MAX_SAMPLES], nout = 0, j;

	for (i = 0; i < npfns; i++) {
		if (pfn_kind[i] != ki)
			continue;
		if (best < 0 || kcount[pfns[i]] > kcount[pfns[best]])
			best = i;
		n++;
	}
	if (!n)
		return 0;
	picks[0] = 0;
	picks[1] = n / 3;
	picks[2] = n / 2;
	picks[3] = n - 1;
	for (i = 0; i < npfns; i++) {
		if (pfn_kind[i] != ki)
			continue;
		for (j = 0; j < 4; j++)
			if (picks[j] == pos && (!nout || out[nout - 1] !=
						pfns[i]))
				out[nout++] = pfns[i];
		pos++;
	}
	for (j = 0; j < nout && out[j] != pfns[best]; j++)
		;
	if (j == nout)
		out[nout++] = pfns[best];
	return nout;
}

static void check_lookups(void)
{
	struct levels lv = { 0 }, before;
	unsigned long thp_pmd = 0, hugetlb_pmd = 0;
	u64 samples[MAX_SAMPLES];
	int ki, i, n, diffs, listed;

	for (ki = 0; ki < nkinds; ki++) {
		if (no_thp_kind(ki)) {
			ok(1, "lookup %s # SKIP no THP", kinds[ki].name);
			continue;
		}
		before = lv;
		n = sample(ki, samples);
		diffs = 0;
		listed = 0;
		for (i = 0; i < n; i++)
			diffs += check_lookup(samples[i], &lv, &listed);
		ok(n && !diffs, "lookup %s: %d pfns, %d mappings listed, as pagemap shows",
		   kinds[ki].name, n, listed);
		if (!strcmp(kinds[ki].name, "thp"))
			thp_pmd = lv.pmd - before.pmd;
		if (!strcmp(kinds[ki].name, "hugetlb"))
			hugetlb_pmd = lv.pmd - before.pmd;
	}
	ok(!lv.wrong && (thp_pmd || no_thp()) && hugetlb_pmd,
	   "lookup levels: %lu PMD and %lu PTE mappings as smaps implies (%lu undecided), thp %lu and hugetlb %lu at level 1",
	   lv.pmd, lv.pte, lv.either, thp_pmd, hugetlb_pmd);
}

/* ---- the 1G hugetlb page (scripts/testbox --1g) ---- */

#define GPAGE_PAGES	BIT(18)
#define GPAGE_POOL	"/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"

/*
 * The generic checks above compare the 1G page's pfns like any other
 * kind's; this one checks that they are what a 1G page must be (every
 * pfn of one aligned 1G page, each PUD-mapped by every sharer) and that
 * lookup lists every mapping at level 2, across the whole page.
 */
static void check_gig(void)
{
	unsigned long n = 0, vmas_1g = 0, maps = 0, twice = 0, lvl2 = 0;
	u64 lo = UINT64_MAX, hi = 0, picks[8];
	int ki = kind_index("hugetlb-1g"), i, e, v, listed = 0, diffs = 0;
	struct levels lv = { 0 };
	long pool;

	if (read_file(GPAGE_POOL, text2, TEXT_SIZE) <= 0)
		text2[0] = '\0';
	pool = text2[0] ? strtol(text2, NULL, 10) : -1;
	for (v = 0; v < nvmas; v++)
		if (vmas[v].kind == ki)
			vmas_1g += vmas[v].kps_kb == 1UL << 20;
	for (i = 0; i < npfns; i++) {
		if (pfn_kind[i] != ki)
			continue;
		n++;
		lo = pfns[i] < lo ? pfns[i] : lo;
		hi = pfns[i] > hi ? pfns[i] : hi;
		twice += kcount[pfns[i]] >= 2;
		for (e = head[pfns[i]]; e >= 0; e = ents[e].next)
			maps++;
	}
	ok(pool >= 1 && n == GPAGE_PAGES && hi - lo + 1 == n &&
	   !(lo % GPAGE_PAGES) && twice == n && vmas_1g >= 2,
	   "1G page: %lu pfns from %#lx, 1G-aligned and contiguous, %lu mappings in %lu VMAs with 1G pages, %lu pfns counted twice or more (pool %ld)",
	   n, (unsigned long)(n ? lo : 0), maps, vmas_1g, twice, pool);
	if (!n)
		return;

	/* both ends, both sides of the first 2M boundary, the middle */
	picks[0] = lo;
	picks[1] = lo + 1;
	picks[2] = lo + 511;
	picks[3] = lo + 512;
	picks[4] = lo + n / 2;
	picks[5] = lo + n / 3 * 2 + 17;
	picks[6] = hi - 1;
	picks[7] = hi;
	for (i = 0; i < 8; i++)
		diffs += check_lookup(picks[i], &lv, &listed);
	lvl2 = lv.pmd;	/* vma_level() says 2 for these VMAs */
	ok(!diffs && !lv.wrong && !lv.either && !lv.pte &&
	   lvl2 == maps / n * 8,
	   "1G page lookup: 8 pfns, %d mappings listed, %lu at level 2, as pagemap shows",
	   listed, lvl2);
}

/* ---- sync, track, histogram, verify ---- */

static void check_sync(void)
{
	struct sync_stats first, second;
	int tries;

	ok(last_sync.errors == 0 && last_sync.hats == nuser_pids,
	   "sync: %ld hats (%d processes with an mm), %ld tables, %ld entries, %ld errors, %ld us",
	   last_sync.hats, nuser_pids, last_sync.tables, last_sync.entries,
	   last_sync.errors, last_sync.duration_ns / 1000);
	/* a race can disturb one pair; a broken reconcile disturbs all */
	for (tries = 0; tries < 3; tries++) {
		sync_now(&first);
		sync_now(&second);
		if (!second.added && !second.removed)
			break;
		diag("second sync: added %ld, removed %ld", second.added,
		     second.removed);
	}
	ok(!second.added && !second.removed && second.entries,
	   "a second sync of an unchanged system adds and removes nothing (%ld entries examined)",
	   second.entries);
}

static int pid_listed(const int *list, int n, int pid)
{
	while (n--)
		if (list[n] == pid)
			return 1;
	return 0;
}

static void check_track(void)
{
	static int tracked[4096];
	int n = 0, pid, i, diffs = 0;
	char *p, *nl, *end;

	if (read_file(HMENT "track", text2, TEXT_SIZE) < 0)
		bail("read track");
	for (p = text2; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		/* "# ..." heading, "0 [kernel] ...", "PID comm h m[ exited]" */
		pid = strtol(p, &end, 10);
		if (end != p && pid > 0 && n < 4096 && !strstr(p, " exited"))
			tracked[n++] = pid;
	}
	for (i = 0; i < n; i++)
		if (!pid_listed(user_pids, nuser_pids, tracked[i]) &&
		    ++diffs <= MAX_DIAG)
			diag("track lists pid %d, which has no mm", tracked[i]);
	for (i = 0; i < nuser_pids; i++)
		if (!pid_listed(tracked, n, user_pids[i]) &&
		    ++diffs <= MAX_DIAG)
			diag("track lacks pid %d", user_pids[i]);
	ok(!diffs, "track: lists exactly the %d processes with an mm", n);
}

static void check_histogram(void)
{
	static char want[4096];
	unsigned long hist[65] = { 0 }, pfn, c, lo, hi, mapped = 0;
	size_t len = 0;
	int b;

	for (pfn = 0; pfn < max_pfn; pfn++) {
		c = kcount[pfn];
		if (!c)
			continue;
		mapped++;
		/* 1, 2, 3-4, 5-8, ...: bucket b holds (2^(b-1), 2^b] */
		hist[c == 1 ? 0 : 64 - __builtin_clzl(c - 1)]++;
	}
	for (b = 0; b < 65; b++) {
		if (!hist[b])
			continue;
		lo = b ? (1UL << (b - 1)) + 1 : 1;
		hi = 1UL << b;
		if (lo == hi)
			len += snprintf(want + len, sizeof(want) - len,
					"%lu %lu\n", lo, hist[b]);
		else
			len += snprintf(want + len, sizeof(want) - len,
					"%lu-%lu %lu\n", lo, hi, hist[b]);
	}
	if (read_file(HMENT "histogram", text2, TEXT_SIZE) < 0)
		bail("read histogram");
	ok(!strcmp(want, text2), "histogram: as /proc/kpagecount gives it (%lu pfns mapped)",
	   mapped);
	if (strcmp(want, text2)) {
		diag("want (from /proc/kpagecount):");
		diag_lines(want);
		diag("got (hment's histogram):");
		diag_lines(text2);
	}
}

static void check_verify(const char *when, int drift_too)
{
	long drift = -1, of = -1;
	char *d;
	int i;

	for (i = 0; i < 2; i++) {
		if (read_file(HMENT "verify", text2, TEXT_SIZE) < 0)
			bail("read verify");
		d = strstr(text2, "\ndrift ");
		while (d && sscanf(d, "\ndrift %ld of %ld", &drift, &of) != 2)
			d = strstr(d + 1, "\ndrift ");
		if (!drift_too || !drift)
			break;
		sync_now(NULL);		/* drift may be a race */
	}
	ok(!strncmp(text2, "ok\n", 3), "verify %s: ok", when);
	if (strncmp(text2, "ok\n", 3)) {
		text2[1000] = '\0';
		diag_lines(text2);
	}
	if (drift_too)
		ok(!drift, "verify %s: drift %ld of %ld (the kernel's own mapcounts)",
		   when, drift, of);
}

/* ---- between syncs ---- */

static u64 own_pfn(const void *va)
{
	u64 e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || pread(fd, &e, 8, (uintptr_t)va / PAGE * 8) != 8)
		bail("read own pagemap");
	close(fd);
	if (!(e & PM_PRESENT))
		bail("own page %p not present", va);
	return e & PM_PFN_MASK;
}

/* Does lookup @pfn list exactly @n (pid, va) pairs, and do counts agree? */
static int lookup_lists(u64 pfn, unsigned long kernel, unsigned long hment,
			int n, ...)
{
	unsigned long k = count_of("/proc/kpagecount", pfn);
	unsigned long h = count_of(HMENT "kpagecount", pfn);
	int got = lookup(pfn), i, j, pid, good;
	u64 va;
	va_list ap;

	good = got == n && k == kernel && h == hment;
	va_start(ap, n);
	for (i = 0; i < n && good; i++) {
		pid = va_arg(ap, int);
		va = (uintptr_t)va_arg(ap, void *);
		for (j = 0; j < got; j++)
			if (hits[j].pid == pid && hits[j].va == va)
				break;
		good = j < got;
	}
	va_end(ap);
	if (good)
		return 1;
	diag("pfn %#lx: kernel %lu (want %lu), hment %lu (want %lu), lookup lists %d (want %d):",
	     (unsigned long)pfn, k, kernel, h, hment, got, n);
	for (j = 0; j < got; j++)
		diag("  %d %#lx level %d", hits[j].pid,
		     (unsigned long)hits[j].va, hits[j].level);
	return 0;
}

static void *map_memfd(int fd, size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		bail("mmap memfd");
	(void)READ_ONCE(*p);
	return p;
}

static void check_memfd(void)
{
	size_t len = 4 * PAGE;
	char *a, *b, *c, *d, *res, page[PAGE];
	u64 pfn;
	int fd, i;

	fd = memfd_create("hment-check", 0);
	memset(page, 'x', sizeof(page));
	for (i = 0; i < 4; i++)
		if (fd < 0 || pwrite(fd, page, PAGE, i * PAGE) != PAGE)
			bail("memfd");
	a = map_memfd(fd, len);
	b = map_memfd(fd, len);
	res = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		bail("mmap");
	sync_now(NULL);
	pfn = own_pfn(a);
	ok(lookup_lists(pfn, 2, 2, 2, self, a, self, b),
	   "memfd page mapped twice here: both listed after a sync");

	munmap(b, len);
	ok(lookup_lists(pfn, 1, 1, 1, self, a),
	   "munmap without a sync: the mapping leaves the index");

	c = map_memfd(fd, len);
	ok(lookup_lists(pfn, 2, 1, 1, self, a),
	   "a new mapping is not listed before a sync");
	sync_now(NULL);
	ok(lookup_lists(pfn, 2, 2, 2, self, a, self, c),
	   "a new mapping is listed after a sync");

	d = mremap(c, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, res);
	if (d == MAP_FAILED)
		bail("mremap");
	ok(lookup_lists(pfn, 2, 1, 1, self, a),
	   "mremap without a sync: the old address leaves the index");
	sync_now(NULL);
	ok(lookup_lists(pfn, 2, 2, 2, self, a, self, d),
	   "mremap, then a sync: the new address is listed");

	if (madvise(a, len, MADV_DONTNEED))
		bail("madvise");
	ok(lookup_lists(pfn, 1, 1, 1, self, d),
	   "MADV_DONTNEED without a sync: the zapped mapping leaves the index");
	munmap(a, len);
	munmap(d, len);
	close(fd);
}

static void check_cow_break(void)
{
	u64 old, new;
	int pipefd[2], status;
	char *p, c;
	pid_t child;

	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || pipe(pipefd))
		bail("mmap, pipe");
	memset(p, 1, PAGE);
	child = fork();
	if (child < 0)
		bail("fork");
	if (!child) {
		close(pipefd[1]);
		_exit(read(pipefd[0], &c, 1) < 0);
	}
	close(pipefd[0]);
	sync_now(NULL);
	old = own_pfn(p);
	ok(lookup_lists(old, 2, 2, 2, self, p, child, p),
	   "anonymous page shared with a forked child: both listed");

	memset(p, 2, PAGE);
	new = own_pfn(p);
	ok(new != old && lookup_lists(old, 1, 1, 1, child, p) &&
	   lookup_lists(new, 1, 0, 0),
	   "a COW break without a sync: the old page loses the writer, whose new page waits for a sync");

	close(pipefd[1]);
	if (waitpid(child, &status, 0) != child)
		bail("waitpid");
	ok(count_of(HMENT "kpagecount", old) ==
	   count_of("/proc/kpagecount", old) && lookup(old) <= 0,
	   "the child's exit without a sync: its mapping leaves the index");
	munmap(p, PAGE);
}

/* Wait until @pid has released its mm: a zombie, or reaped. */
static int wait_exit(int pid)
{
	char path[64], *s;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (i = 0; i < 1000; i++) {
		if (read_file(path, text2, TEXT_SIZE) <= 0)
			return 1;
		s = strrchr(text2, ')');
		if (s && s[1] == ' ' && (s[2] == 'Z' || s[2] == 'X'))
			return 1;
		usleep(10 * 1000);
	}
	return 0;
}

/* A workload peer mapping shmem, tmpfs and a file dies: no sync after. */
static void check_exit(void)
{
	static u64 mine[4096], before[4096];
	int victim = 0, n = 0, i, e, diffs = 0, dropped = 0;
	int shmem = kind_index("shmem");

	for (i = 0; i < nranges; i++)
		if (ranges[i].kind == shmem)
			victim = ranges[i].pid;		/* the last peer */
	for (e = 0; e < nents && n < 4096; e++) {
		if (ents[e].pid != victim)
			continue;
		for (i = 0; i < n && mine[i] != ents[e].pfn; i++)
			;
		if (i == n) {
			before[n] = kcount[ents[e].pfn];
			mine[n++] = ents[e].pfn;
		}
	}
	if (!victim || kill(victim, SIGKILL) || !wait_exit(victim))
		bail("cannot kill workload pid %d", victim);
	for (i = 0; i < n; i++) {
		kcount[mine[i]] = count_of("/proc/kpagecount", mine[i]);
		hcount[mine[i]] = count_of(HMENT "kpagecount", mine[i]);
		dropped += kcount[mine[i]] < before[i];
		if (kcount[mine[i]] == hcount[mine[i]])
			continue;
		if (++diffs <= MAX_DIAG)
			describe_pfn(mine[i]);
	}
	ok(n && dropped && !diffs,
	   "exit of workload pid %d: its %d pfns' counts drop without a sync (%d fewer), as the kernel's do",
	   victim, n, dropped);
}

static void check_no_excess(void)
{
	unsigned long pfn, n = 0;

	read_all_counts();
	for (pfn = 0; pfn < max_pfn; pfn++) {
		if (hcount[pfn] <= kcount[pfn])
			continue;
		if (++n <= MAX_DIAG)
			diag("pfn %#lx: hment %lu > kernel %lu", pfn,
			     (unsigned long)hcount[pfn],
			     (unsigned long)kcount[pfn]);
	}
	ok(!n, "between syncs the index claims nothing gone: hment <= kernel for every pfn");
}

/* ---- the interface ---- */

static void check_bad_writes(void)
{
	static const struct {
		const char *file, *s;
		int err;
	} writes[] = {
		{ "lookup", "abc", -EINVAL },
		{ "lookup", "-1", -EINVAL },
		{ "lookup", NULL, -ERANGE },	/* max_pfn */
		{ "track", "bogus", -EINVAL },
		{ "track", "999999", -ESRCH },
		{ "track", "-999999", -ESRCH },
		{ "sync", "2", -EINVAL },
	};
	char path[128], s[32];
	int i, n0, n1, err, diffs = 0;
	u64 pfn = pfns[0], va0;

	n0 = lookup(pfn);
	va0 = n0 > 0 ? hits[0].va : 0;
	snprintf(s, sizeof(s), "%#lx", max_pfn);
	for (i = 0; i < (int)ARRAY_SIZE(writes); i++) {
		snprintf(path, sizeof(path), HMENT "%s", writes[i].file);
		err = write_file(path, writes[i].s ? writes[i].s : s);
		if (err == writes[i].err)
			continue;
		diffs++;
		diag("echo %s > %s: %s, want %s", writes[i].s ? writes[i].s : s,
		     writes[i].file, strerror(-err), strerror(-writes[i].err));
	}
	/* lookup still answers for the pfn written before the bad writes */
	if (read_file(HMENT "lookup", text2, TEXT_SIZE) < 0)
		bail("read lookup");
	n1 = parse_hits();
	ok(!diffs && n0 > 0 && n1 == n0 && hits[0].va == va0,
	   "bad writes fail with the right errno and change nothing");
}

/*
 * The kernel's own page tables are not walked: nothing protects a walk of
 * init_mm's vmalloc tables from huge vmap freeing them. The command that
 * asked for it is gone, and no hat of pid 0 is listed.
 */
static void check_no_kernel_hat(void)
{
	int err = write_file(HMENT "track", "kernel");
	int found = 0;
	char *p;

	sync_now(NULL);
	if (read_file(HMENT "track", text2, TEXT_SIZE) < 0)
		bail("read track");
	for (p = text2; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (!strncmp(p, "0 ", 2))
			found = 1;
	ok(err == -EINVAL && !found,
	   "track kernel is refused (%s) and no kernel hat is listed",
	   strerror(-err));
}

int main(int argc, char **argv)
{
	char path[4096];
	long procs, ksm, ksm_want;
	int i;

	setvbuf(stdout, outbuf, _IOLBF, sizeof(outbuf));
	if (argc != 2) {
		fprintf(stderr, "usage: hment-check WORKLOAD_DIR\n");
		return 2;
	}
	self = getpid();
	prefault_stack();
	/* our text and data too: code run for the first time maps pages */
	if (mlockall(MCL_CURRENT) || munlockall())
		bail("mlockall");
	text = prefault(TEXT_SIZE);
	text2 = prefault(TEXT_SIZE);
	printf("TAP version 13\n");

	if (read_file(HMENT "stats", text, TEXT_SIZE) <= 0)
		bail("read " HMENT "stats (is hment loaded?)");
	max_pfn = field(text, "max_pfn");
	if ((long)max_pfn <= 0)
		bail("no max_pfn in stats");
	kcount = prefault(max_pfn * sizeof(*kcount));
	hcount = prefault(max_pfn * sizeof(*hcount));
	head = prefault(max_pfn * sizeof(*head));
	memset(head, 0xff, max_pfn * sizeof(*head));
	ents = prefault(MAX_ENTRIES * sizeof(*ents));
	pfns = prefault(MAX_ENTRIES * sizeof(*pfns));
	pfn_kind = prefault(MAX_ENTRIES * sizeof(*pfn_kind));
	vmas = prefault(MAX_VMAS * sizeof(*vmas));
	pmbuf = prefault(PM_CHUNK * sizeof(*pmbuf));

	snprintf(path, sizeof(path), "%s/ready", argv[1]);
	if (read_file(path, text, TEXT_SIZE) <= 0)
		bail("read %s", path);
	procs = field(text, "processes");
	ksm = field(text, "ksm_pages_sharing");
	ksm_want = field(text, "ksm_wanted");
	load_manifest(argv[1]);
	ok(procs > 0 && nranges > 0 && ksm >= ksm_want,
	   "workload ready: %ld processes, %d regions, KSM pages_sharing %ld (want %ld)",
	   procs, nranges, ksm, ksm_want);

	compare_round("after a sync");
	report_counts();
	check_workload();
	check_histogram();
	check_lookups();
	check_gig();
	check_track();
	check_sync();
	check_verify("after syncs", 1);

	check_memfd();
	check_cow_break();
	check_exit();
	check_no_excess();

	compare_round("after the changes and a sync");
	ok(!nbad, "after the changes and a sync: all %lu pfns agree again",
	   max_pfn);
	for (i = 0; i < nbad && i < MAX_DIAG; i++)
		describe_pfn(bad[i]);
	check_bad_writes();
	check_no_kernel_hat();
	check_verify("at the end", 0);

	printf("1..%d\n", tests);
	return failures ? 1 : 0;
}
