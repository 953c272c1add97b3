// SPDX-License-Identifier: GPL-2.0
/*
 * hment-top: what hment's index knows, for people and for scripts.
 *
 *   hment-top pfn PFN			every mapping of PFN: pid, address,
 *					page size, comm, what is mapped
 *   hment-top shares PID		the processes that map pages PID
 *					maps, and how many pages each
 *   hment-top top [-p PID] [-n N]	the N most-shared pages, of PID's
 *					or of all, with who maps them
 *   hment-top --prom FILE		counters, gauges and the sharing
 *					histogram in Prometheus' text format,
 *					written atomically (for
 *					node_exporter's textfile collector)
 *   -j					JSON instead of text (pfn, shares,
 *					top)
 *
 * and what scripts/demo shows:
 *
 *   hment-top [-n PAGES] [-m LINES]	the most-mapped page of each of the
 *					PAGES most-mapped objects (a file,
 *					[anon], [stack]...)
 *   hment-top -k MANIFEST [-m LINES]	the most-mapped page of the first
 *					region of each kind in an
 *					hment-workload manifest
 *   hment-top -c			sync, then compare hment's
 *					kpagecount with /proc/kpagecount
 *					pfn by pfn, and run verify
 *   -s					sync first (-c always does)
 *
 * Reads /sys/kernel/debug/hment/ (root only).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hment-user.h"

#define HMENT		"/sys/kernel/debug/hment/"
#define PAGE		4096UL
#define MAX_SEEN	64
#define MAX_LOOKUPS	500	/* pages looked up before giving up */
#define MAX_REGION	512	/* pages of a region looked at */

struct page {
	u64 pfn, count;
};

static void __noreturn die(const char *what)
{
	fprintf(stderr, "hment-top: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *read_file(const char *path)
{
	size_t size = 1 << 16, n = 0;
	char *buf = malloc(size);
	ssize_t got;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !buf)
		die(path);
	while ((got = read(fd, buf + n, size - n - 1)) > 0) {
		n += got;
		if (n == size - 1) {
			size *= 2;
			buf = realloc(buf, size);
			if (!buf)
				die("realloc");
		}
	}
	if (got < 0)
		die(path);
	close(fd);
	buf[n] = '\0';
	return buf;
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, s, strlen(s)) < 0)
		die(path);
	close(fd);
}

static unsigned long read_max_pfn(void)
{
	char *stats = read_file(HMENT "stats"), *s;
	unsigned long n = 0;

	s = strstr(stats, "max_pfn ");
	if (s)
		n = strtoul(s + 8, NULL, 0);
	free(stats);
	if (!n) {
		errno = EINVAL;
		die("no max_pfn in " HMENT "stats");
	}
	return n;
}

static void read_counts(const char *path, u64 *c, unsigned long pfns)
{
	size_t size = pfns * sizeof(*c), done = 0;
	ssize_t n = 1;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die(path);
	while (done < size &&
	       (n = pread(fd, (char *)c + done, size - done, done)) > 0)
		done += n;
	if (n < 0)
		die(path);
	close(fd);
}

static u64 count_of(const char *path, u64 pfn)
{
	u64 c = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || pread(fd, &c, sizeof(c), pfn * sizeof(c)) < 0)
		die(path);
	close(fd);
	return c;
}

static char *lookup(u64 pfn)
{
	char s[32];

	snprintf(s, sizeof(s), "%#llx", (unsigned long long)pfn);
	write_file(HMENT "lookup", s);
	return read_file(HMENT "lookup");
}

/* A lookup line's columns from the seventh on: what is mapped. */
static const char *name_of(const char *line, char *buf, size_t size)
{
	const char *end = strchr(line, '\n');
	int at = -1;

	if (!end)
		end = line + strlen(line);
	if (sscanf(line, "%*s %*s %*s %*s %*s %*s %n", &at) < 0 ||
	    at < 0 || line + at > end)
		at = end - line;
	snprintf(buf, size, "%.*s", (int)(end - line - at), line + at);
	return buf;
}

/* Lookup's lines, abridged to @max_lines, under a heading. */
static void show(const char *title, u64 pfn, char *text, int max_lines)
{
	static const char * const sizes[] = { "4K", "2M", "1G" };
	char name[256], comm[64];
	unsigned long long va;
	int pid, level, n = 0;
	char *line;

	printf("%spfn %#llx: %llu mappings (/proc/kpagecount: %llu)%s%s\n",
	       title, (unsigned long long)pfn,
	       (unsigned long long)count_of(HMENT "kpagecount", pfn),
	       (unsigned long long)count_of("/proc/kpagecount", pfn),
	       *text ? " of " : ", never counted (a zero page)",
	       *text ? name_of(text, name, sizeof(name)) : "");
	if (!*text)
		return;
	printf("    %7s  %-18s %-4s %s\n", "pid", "address", "page", "comm");
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (sscanf(line, "%d %llx %d %63s", &pid, &va, &level,
			   comm) != 4)
			continue;
		if (n++ >= max_lines)
			continue;
		printf("    %7d  %#-18llx %-4s %s\n", pid, va,
		       level >= 0 && level < 3 ? sizes[level] : "?", comm);
	}
	if (n > max_lines)
		printf("    ... and %d more\n", n - max_lines);
}

static int by_count(const void *a, const void *b)
{
	const struct page *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

/* The top pages, one per object: the others tend to look the same. */
static void top(int max_pages, int max_lines)
{
	unsigned long pfns = read_max_pfn(), pfn, n = 0, i;
	u64 *count = calloc(pfns, sizeof(*count));
	struct page *pages = malloc(pfns * sizeof(*pages));
	char seen[MAX_SEEN][256], name[256], *text;
	int shown = 0, nseen = 0, j;

	if (!count || !pages)
		die("malloc");
	read_counts(HMENT "kpagecount", count, pfns);
	for (pfn = 0; pfn < pfns; pfn++)
		if (count[pfn])
			pages[n++] = (struct page) { pfn, count[pfn] };
	qsort(pages, n, sizeof(*pages), by_count);
	printf("%lu pages mapped; the most-mapped page of the %d most-mapped objects:\n",
	       n, max_pages);
	for (i = 0; i < n && i < MAX_LOOKUPS && shown < max_pages; i++) {
		text = lookup(pages[i].pfn);
		name_of(text, name, sizeof(name));
		for (j = 0; j < nseen && strcmp(seen[j], name); j++)
			;
		if (j == nseen && *text) {
			if (nseen < MAX_SEEN)
				strcpy(seen[nseen++], name);
			show("", pages[i].pfn, text, max_lines);
			shown++;
		}
		free(text);
	}
	free(pages);
	free(count);
}

/* The most-mapped page of [start, end) in @pid, through its pagemap. */
static u64 region_top(int pid, unsigned long start, unsigned long end)
{
	u64 e, pfn, best = 0, best_count = 0, c;
	unsigned long va;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	for (va = start; va < end && va < start + MAX_REGION * PAGE;
	     va += PAGE) {
		if (pread(fd, &e, 8, va / PAGE * 8) != 8 || !(e >> 63))
			continue;
		pfn = e & ((1ULL << 55) - 1);
		c = count_of(HMENT "kpagecount", pfn);
		if (!best || c > best_count) {
			best = pfn;
			best_count = c;
		}
	}
	close(fd);
	return best;
}

static void kinds(const char *manifest, int max_lines)
{
	char *text = read_file(manifest), *line, *save, kind[64], seen[4096];
	char title[96], *hits;
	unsigned long start, end;
	u64 pfn;
	int pid;

	*seen = '\0';
	printf("the most-mapped page of each kind of sharing:\n");
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%d %63s %lx %lx", &pid, kind, &start,
			   &end) != 4)
			continue;
		strcat(kind, " ");
		if (strstr(seen, kind) ||
		    strlen(seen) + strlen(kind) >= sizeof(seen))
			continue;
		strcat(seen, kind);
		pfn = region_top(pid, start, end);
		if (!pfn)
			continue;
		snprintf(title, sizeof(title), "%-10s", kind);
		hits = lookup(pfn);
		show(title, pfn, hits, max_lines);
		free(hits);
	}
	free(text);
}

/* Sync, with our own text, data and stdio buffer mapped first. */
static void sync_now(void)
{
	fflush(stdout);
	if (mlockall(MCL_CURRENT) || munlockall())
		die("mlockall");
	write_file(HMENT "sync", "1");
}

/*
 * Sync, then compare: with our own pages mapped before the sync, the
 * index and the kernel should agree on every pfn of a quiet system.
 */
static int compare(void)
{
	unsigned long pfns = read_max_pfn(), pfn, mapped = 0, diff = 0;
	u64 *kernel, *ours;
	char *verify, *drift;

	kernel = mmap(NULL, 2 * pfns * sizeof(*kernel),
		      PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (kernel == MAP_FAILED)
		die("mmap");
	ours = kernel + pfns;
	memset(kernel, 0, 2 * pfns * sizeof(*kernel));
	printf("syncing, then comparing every pfn with /proc/kpagecount\n");
	sync_now();
	/* the kernel's first: an unmap in between lowers ours as well */
	read_counts("/proc/kpagecount", kernel, pfns);
	read_counts(HMENT "kpagecount", ours, pfns);
	for (pfn = 0; pfn < pfns; pfn++) {
		mapped += !!kernel[pfn];
		if (kernel[pfn] == ours[pfn])
			continue;
		if (diff++ < 5)
			printf("pfn %#lx: kernel %llu, hment %llu\n", pfn,
			       (unsigned long long)kernel[pfn],
			       (unsigned long long)ours[pfn]);
	}
	printf("hment's kpagecount and /proc/kpagecount agree on %lu of %lu pfns (%lu mapped)\n",
	       pfns - diff, pfns, mapped);
	verify = read_file(HMENT "verify");
	drift = strstr(verify, "\ndrift ");
	printf("verify: %.*s; %.*s\n", (int)strcspn(verify, "\n"), verify,
	       drift ? (int)strcspn(drift + 1, "\n") : 0,
	       drift ? drift + 1 : "");
	return diff || strncmp(verify, "ok\n", 3);
}

/* ---- queries: who maps a pfn, who shares with a pid, the most shared ---- */

struct hit {
	int pid, level;
	unsigned long long va, ptpfn;
	unsigned int entry;
	char comm[64], name[256];
};

static int json;

/* Lookup @pfn and parse its lines into *@out (malloc'd): how many. */
static int hits_of(u64 pfn, struct hit **out)
{
	char *text = lookup(pfn), *line, *save;
	int n = 0, cap = 16, at;
	struct hit *h = malloc(cap * sizeof(*h));

	if (!h)
		die("malloc");
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (n == cap) {
			cap *= 2;
			h = realloc(h, cap * sizeof(*h));
			if (!h)
				die("realloc");
		}
		at = -1;
		if (sscanf(line, "%d %llx %d %63s %llu %u %n", &h[n].pid,
			   &h[n].va, &h[n].level, h[n].comm, &h[n].ptpfn,
			   &h[n].entry, &at) < 6 || at < 0)
			continue;
		snprintf(h[n].name, sizeof(h[n].name), "%s", line + at);
		n++;
	}
	free(text);
	*out = h;
	return n;
}

static unsigned long long page_size(int level)
{
	return level >= 0 && level < 3 ? 4096ULL << (9 * level) : 0;
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_hits(const struct hit *h, int n)
{
	int i;

	printf("[");
	for (i = 0; i < n; i++) {
		printf("%s{\"pid\":%d,\"comm\":", i ? "," : "", h[i].pid);
		json_str(h[i].comm);
		printf(",\"address\":\"%#llx\",\"level\":%d,\"page_size\":%llu,",
		       h[i].va, h[i].level, page_size(h[i].level));
		printf("\"table_pfn\":%llu,\"entry\":%u,\"name\":",
		       h[i].ptpfn, h[i].entry);
		json_str(h[i].name);
		printf("}");
	}
	printf("]");
}

/* Distinct pids among @h. */
static int procs_of(const struct hit *h, int n)
{
	int i, j, procs = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i && h[j].pid != h[i].pid; j++)
			;
		procs += j == i;
	}
	return procs;
}

/* hment-top pfn PFN: every mapping of it. */
static int who_maps(u64 pfn, int max_lines)
{
	u64 count = count_of(HMENT "kpagecount", pfn);
	u64 kernel = count_of("/proc/kpagecount", pfn);
	struct hit *h;
	int n = hits_of(pfn, &h), i;

	if (json) {
		printf("{\"pfn\":%llu,\"mappings\":%llu,\"kpagecount\":%llu,",
		       (unsigned long long)pfn, (unsigned long long)count,
		       (unsigned long long)kernel);
		printf("\"processes\":%d,\"hits\":", procs_of(h, n));
		json_hits(h, n);
		printf("}\n");
		free(h);
		return 0;
	}
	printf("pfn %#llx: %llu mappings in %d processes (/proc/kpagecount: %llu)\n",
	       (unsigned long long)pfn, (unsigned long long)count,
	       procs_of(h, n), (unsigned long long)kernel);
	if (n)
		printf("    %7s  %-18s %-4s %-16s %s\n", "pid", "address",
		       "page", "comm", "what");
	for (i = 0; i < n && i < max_lines; i++)
		printf("    %7d  %#-18llx %-4s %-16s %s\n", h[i].pid, h[i].va,
		       h[i].level == 2 ? "1G" : h[i].level == 1 ? "2M" : "4K",
		       h[i].comm, h[i].name);
	if (n > max_lines)
		printf("    ... and %d more\n", n - max_lines);
	free(h);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* The distinct pfns @pid maps, from its pagemap, ascending: how many. */
static unsigned long pid_pfns(int pid, unsigned long max, u64 **out)
{
	unsigned long n = 0, cap = 4096, start, end, va, i, k;
	char path[64], *maps, *line, *save;
	u64 *list = malloc(cap * sizeof(*list)), buf[512];
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = read_file(path);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0 || !list)
		die(path);
	for (line = strtok_r(maps, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%lx-%lx", &start, &end) != 2 ||
		    start >= 0xffff800000000000UL)	/* vsyscall */
			continue;
		for (va = start; va < end; va += k * PAGE) {
			k = (end - va) / PAGE;
			if (k > 512)
				k = 512;
			got = pread(fd, buf, k * 8, va / PAGE * 8);
			if (got <= 0)
				break;
			k = got / 8;
			for (i = 0; i < k; i++) {
				if (!(buf[i] >> 63))
					continue;
				buf[i] &= (1ULL << 55) - 1;
				if (!buf[i]) {
					errno = EPERM;
					die("pagemap hides pfns (not root?)");
				}
				if (buf[i] >= max)
					continue;	/* device memory */
				if (n == cap) {
					cap *= 2;
					list = realloc(list,
						       cap * sizeof(*list));
					if (!list)
						die("realloc");
				}
				list[n++] = buf[i];
			}
		}
	}
	close(fd);
	free(maps);
	qsort(list, n, sizeof(*list), cmp_u64);
	for (i = k = 0; i < n; i++)
		if (!k || list[k - 1] != list[i])
			list[k++] = list[i];
	*out = list;
	return k;
}

static u64 *all_counts(unsigned long *pfns)
{
	u64 *count;

	*pfns = read_max_pfn();
	count = calloc(*pfns, sizeof(*count));
	if (!count)
		die("malloc");
	read_counts(HMENT "kpagecount", count, *pfns);
	return count;
}

static void comm_of(int pid, char *buf, size_t size)
{
	char path[64], *s;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, size - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	s = strchr(buf, '\n');
	if (s)
		*s = '\0';
}

struct sharer {
	int pid;
	unsigned long pages;
	char comm[64];
};

static int by_pages(const void *a, const void *b)
{
	const struct sharer *x = a, *y = b;

	if (x->pages != y->pages)
		return x->pages < y->pages ? 1 : -1;
	return x->pid - y->pid;
}

/*
 * hment-top shares PID: which processes map pages that PID maps, and how
 * many. A huge leaf maps every pfn of its aligned huge page, so when all
 * of a pfn's mappings are leaves of at least that size and every other
 * pfn of the page has the same count, those pfns have the same mappers:
 * one lookup per huge page, not one per pfn.
 */
static int shares(int pid, int max_lines)
{
	unsigned long pfns, n, i, j, shared = 0, span, lookups = 0;
	struct sharer *s = NULL;
	int ns = 0, cap = 0, nh, k, m;
	u64 *count = all_counts(&pfns), *mine;
	struct hit *h;
	char comm[64];

	n = pid_pfns(pid, pfns, &mine);
	comm_of(pid, comm, sizeof(comm));
	for (i = 0; i < n; i = j) {
		j = i + 1;
		if (count[mine[i]] < 2)
			continue;
		nh = hits_of(mine[i], &h);
		lookups++;
		span = nh ? 1UL << 18 : 1;	/* none: gone meanwhile */
		for (k = 0; k < nh; k++)
			if (page_size(h[k].level) / PAGE < span)
				span = page_size(h[k].level) / PAGE;
		/* the pfns of mine in the same huge page, counted alike */
		while (span > 1 && j < n &&
		       mine[j] / span == mine[i] / span &&
		       count[mine[j]] == count[mine[i]])
			j++;
		m = 0;
		for (k = 0; k < nh; k++) {
			int x;

			if (h[k].pid == pid)
				continue;
			/* each pid once per pfn */
			for (x = 0; x < k && h[x].pid != h[k].pid; x++)
				;
			if (x < k)
				continue;
			for (x = 0; x < ns && s[x].pid != h[k].pid; x++)
				;
			if (x == ns) {
				if (ns == cap) {
					cap = cap ? 2 * cap : 64;
					s = realloc(s, cap * sizeof(*s));
					if (!s)
						die("realloc");
				}
				s[ns] = (struct sharer){ .pid = h[k].pid };
				snprintf(s[ns].comm, sizeof(s[ns].comm), "%s",
					 h[k].comm);
				ns++;
			}
			s[x].pages += j - i;
			m = 1;
		}
		if (m)
			shared += j - i;
		free(h);
	}
	qsort(s, ns, sizeof(*s), by_pages);
	if (json) {
		printf("{\"pid\":%d,\"comm\":", pid);
		json_str(comm);
		printf(",\"pages\":%lu,\"shared_pages\":%lu,\"sharers\":[",
		       n, shared);
		for (k = 0; k < ns; k++) {
			printf("%s{\"pid\":%d,\"comm\":", k ? "," : "",
			       s[k].pid);
			json_str(s[k].comm);
			printf(",\"pages\":%lu}", s[k].pages);
		}
		printf("]}\n");
	} else {
		printf("pid %d (%s): %lu pages mapped, ", pid, comm, n);
		printf("%lu of them shared with %d other processes (%lu lookups)\n",
		       shared, ns, lookups);
		if (ns)
			printf("    %7s  %-16s %s\n", "pid", "comm",
			       "pages shared");
		for (k = 0; k < ns && k < max_lines; k++)
			printf("    %7d  %-16s %lu\n", s[k].pid, s[k].comm,
			       s[k].pages);
		if (ns > max_lines)
			printf("    ... and %d more\n", ns - max_lines);
	}
	free(s);
	free(mine);
	free(count);
	return 0;
}

/* hment-top top [-p PID]: the most-shared pages, of PID or of all. */
static int most_shared(int pid, int max_pages, int max_lines)
{
	unsigned long pfns, n = 0, i, mapped;
	u64 *count = all_counts(&pfns), *mine = NULL;
	struct page *pages;
	struct hit *h;
	int nh, k;

	if (pid > 0) {
		mapped = pid_pfns(pid, pfns, &mine);
		pages = malloc((mapped + 1) * sizeof(*pages));
		if (!pages)
			die("malloc");
		for (i = 0; i < mapped; i++)
			if (count[mine[i]])
				pages[n++] = (struct page){ mine[i],
							    count[mine[i]] };
	} else {
		pages = malloc(pfns * sizeof(*pages));
		if (!pages)
			die("malloc");
		for (i = 0; i < pfns; i++)
			if (count[i])
				pages[n++] = (struct page){ i, count[i] };
	}
	qsort(pages, n, sizeof(*pages), by_count);
	if (json)
		printf("{\"pid\":%d,\"pages\":%lu,\"top\":[", pid > 0 ? pid : 0,
		       n);
	else
		printf("%lu pages mapped%s; the %d most shared:\n", n,
		       pid > 0 ? " by that pid" : "", max_pages);
	if (!json)
		printf("    %-12s %8s %6s  %s\n", "pfn", "mappings", "procs",
		       "what (first mapping)");
	for (i = 0; i < n && i < (unsigned long)max_pages; i++) {
		nh = hits_of(pages[i].pfn, &h);
		if (json) {
			printf("%s{\"pfn\":%llu,\"mappings\":%llu,\"processes\":%d,\"hits\":",
			       i ? "," : "",
			       (unsigned long long)pages[i].pfn,
			       (unsigned long long)pages[i].count,
			       procs_of(h, nh));
			json_hits(h, nh);
			printf("}");
		} else {
			printf("    %#-12llx %8llu %6d  %s\n",
			       (unsigned long long)pages[i].pfn,
			       (unsigned long long)pages[i].count,
			       procs_of(h, nh), nh ? h[0].name : "-");
			for (k = 0; k < nh && k < max_lines; k++)
				printf("        %7d %#-18llx %s %s\n", h[k].pid,
				       h[k].va, h[k].level == 2 ? "1G" :
				       h[k].level == 1 ? "2M" : "4K",
				       h[k].comm);
		}
		free(h);
	}
	if (json)
		printf("]}\n");
	free(pages);
	free(mine);
	free(count);
	return 0;
}

/* ---- Prometheus text exposition, for node_exporter's textfile collector ---- */

/* stats lines that only ever grow: counters; everything else is a gauge */
static const char * const counters[] = {
	"alloc", "free", "put_reserve", "get_reserve", "steals", "steal_exam",
	"stolen", "steal_giveup", "cache_alloc", "cache_free", "alloc_fail",
	"fault_injected", "stale_marks", "changes", "verify_unsettled",
	"remove_missing",
};

static int is_counter(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(counters); i++)
		if (!strcmp(counters[i], name))
			return 1;
	return 0;
}

static void prom_metric(FILE *f, const char *name, const char *type,
			const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One metric with its HELP and TYPE lines and a single sample. */
static void prom_sample(FILE *f, const char *name, const char *type,
			const char *help, long long v)
{
	prom_metric(f, name, type, help);
	fprintf(f, "%s %lld\n", name, v);
}

/* Calls @fn for every "name value" line of the debugfs file @file. */
static void each_value(const char *file, FILE *f,
		       void (*fn)(FILE *f, const char *name, long long v))
{
	char *text = read_file(file), *line, *save, name[64];
	long long v;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%63s %lld", name, &v) == 2)
			fn(f, name, v);
	free(text);
}

/* A stats line: memory figures, counters, or else a gauge. */
static void prom_stat(FILE *f, const char *name, long long v)
{
	char metric[160];

	if (!strcmp(name, "mem_total")) {
		prom_sample(f, "hment_index_memory_bytes", "gauge",
			    "Memory the index holds, all in.", v);
	} else if (!strncmp(name, "mem_", 4)) {
		snprintf(metric, sizeof(metric), "hment_index_%s_memory_bytes",
			 name + 4);
		prom_sample(f, metric, "gauge",
			    "Memory the index holds in this kind of object.", v);
	} else if (is_counter(name)) {
		snprintf(metric, sizeof(metric), "hment_%s_total", name);
		prom_sample(f, metric, "counter",
			    "hment debugfs stats counter since load.", v);
	} else {
		snprintf(metric, sizeof(metric), "hment_%s%s", name,
			 strstr(name, "_size") ? "_bytes" : "");
		prom_sample(f, metric, "gauge", "hment debugfs stats value.", v);
	}
}

/* A line of the last sync's figures. */
static void prom_sync_value(FILE *f, const char *name, long long v)
{
	char metric[160];

	if (!strcmp(name, "duration_ns")) {
		prom_metric(f, "hment_last_sync_duration_seconds", "gauge",
			    "How long the last sync took.");
		fprintf(f, "hment_last_sync_duration_seconds %.9f\n", v / 1e9);
		return;
	}
	snprintf(metric, sizeof(metric), "hment_last_sync_%s", name);
	prom_sample(f, metric, "gauge", "What the last sync did (debugfs sync).",
		    v);
}

/*
 * The sharing histogram: pages by how many mappings each has, with the
 * debugfs histogram's power-of-two buckets, from one read of kpagecount
 * so that buckets, sum and count agree.
 */
static void prom_histogram(FILE *f)
{
	unsigned long pfns, pfn, hist[65] = { 0 }, cum = 0;
	u64 *count = all_counts(&pfns), c, sum = 0;
	int b, top = 0;

	for (pfn = 0; pfn < pfns; pfn++) {
		c = count[pfn];
		if (!c)
			continue;
		b = c == 1 ? 0 : 64 - __builtin_clzll(c - 1);
		hist[b]++;
		top = b > top ? b : top;
		sum += c;
	}
	prom_metric(f, "hment_page_mappings", "histogram",
		    "Mapped pages (pfns) by how many page-table entries map each.");
	for (b = 0; b <= top; b++) {
		cum += hist[b];
		fprintf(f, "hment_page_mappings_bucket{le=\"%llu\"} %lu\n",
			1ULL << b, cum);
	}
	fprintf(f, "hment_page_mappings_bucket{le=\"+Inf\"} %lu\n", cum);
	fprintf(f, "hment_page_mappings_sum %llu\n", (unsigned long long)sum);
	fprintf(f, "hment_page_mappings_count %lu\n", cum);
	free(count);
}

/* Write all to a temporary file next to @path, then rename it over. */
static int prom(const char *path)
{
	char tmp[4096];
	FILE *f;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, getpid()) >=
	    (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		die(path);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f)
		die(tmp);
	each_value(HMENT "stats", f, prom_stat);
	each_value(HMENT "sync", f, prom_sync_value);
	prom_histogram(f);
	prom_metric(f, "hment_scrape_timestamp_seconds", "gauge",
		    "When hment-top wrote this file.");
	fprintf(f, "hment_scrape_timestamp_seconds %lld\n",
		(long long)time(NULL));
	if (fflush(f) || fsync(fd) || ferror(f)) {
		unlink(tmp);
		die(tmp);
	}
	fclose(f);
	if (rename(tmp, path)) {
		unlink(tmp);
		die(path);
	}
	return 0;
}

static void __noreturn usage_exit(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: hment-top [-s] [-j] [-m LINES] pfn PFN\n"
		"       hment-top [-s] [-j] [-m LINES] shares PID\n"
		"       hment-top [-s] [-j] [-m LINES] top [-p PID] [-n PAGES]\n"
		"       hment-top [-s] --prom FILE\n"
		"       hment-top [-s] [-n PAGES] [-m LINES] | [-s] -k MANIFEST [-m LINES] | -c\n"
		"  -s sync first; -j JSON; -m mapping lines shown per page\n"
		"Reads /sys/kernel/debug/hment/ (root, hment.ko loaded).\n");
	exit(status);
}

/* A number as strtoull(base 0) reads it, all of it, or usage. */
static unsigned long long number(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		usage_exit(2);
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "prom", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, pages = 8, lines = 6, sync = 0, pid = 0, compare_now = 0;
	const char *manifest = NULL, *prom_file = NULL, *cmd;

	while ((opt = getopt_long(argc, argv, "ck:n:m:sjp:h", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'c':
			compare_now = 1;
			break;
		case 's':
			sync = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'k':
			manifest = optarg;
			break;
		case 'n':
			pages = number(optarg);
			break;
		case 'm':
			lines = number(optarg);
			break;
		case 'p':
			pid = number(optarg);
			break;
		case 'P':
			prom_file = optarg;
			break;
		case 'h':
			usage_exit(0);
		default:
			usage_exit(2);
		}
	}
	if (compare_now)
		return compare();
	if (sync)
		sync_now();
	if (prom_file)
		return prom(prom_file);
	cmd = optind < argc ? argv[optind] : NULL;
	if (cmd && !strcmp(cmd, "pfn") && argc - optind == 2)
		return who_maps(number(argv[optind + 1]), lines);
	if (cmd && !strcmp(cmd, "shares") && argc - optind == 2)
		return shares(number(argv[optind + 1]), lines);
	if (cmd && !strcmp(cmd, "top") && argc - optind == 1)
		return most_shared(pid, pages, lines);
	if (cmd || json || pid)
		usage_exit(2);
	if (manifest)
		kinds(manifest, lines);
	else
		top(pages, lines);
	return 0;
}
