// SPDX-License-Identifier: GPL-2.0
/*
 * hment-top: the most-mapped pages in hment's index and who maps them.
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HMENT		"/sys/kernel/debug/hment/"
#define PAGE		4096UL
#define MAX_SEEN	64
#define MAX_LOOKUPS	500	/* pages looked up before giving up */
#define MAX_REGION	512	/* pages of a region looked at */

struct page {
	uint64_t pfn, count;
};

static void __attribute__((noreturn)) die(const char *what)
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

static unsigned long max_pfn(void)
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

static void read_counts(const char *path, uint64_t *c, unsigned long pfns)
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

static uint64_t count_of(const char *path, uint64_t pfn)
{
	uint64_t c = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || pread(fd, &c, sizeof(c), pfn * sizeof(c)) < 0)
		die(path);
	close(fd);
	return c;
}

static char *lookup(uint64_t pfn)
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
static void show(const char *title, uint64_t pfn, char *text, int max_lines)
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
	unsigned long pfns = max_pfn(), pfn, n = 0, i;
	uint64_t *count = calloc(pfns, sizeof(*count));
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
static uint64_t region_top(int pid, unsigned long start, unsigned long end)
{
	uint64_t e, pfn, best = 0, best_count = 0, c;
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
	uint64_t pfn;
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
	unsigned long pfns = max_pfn(), pfn, mapped = 0, diff = 0;
	uint64_t *kernel, *ours;
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

int main(int argc, char **argv)
{
	int opt, pages = 8, lines = 6, sync = 0;
	const char *manifest = NULL;

	while ((opt = getopt(argc, argv, "ck:n:m:s")) != -1) {
		switch (opt) {
		case 'c':
			return compare();
		case 's':
			sync = 1;
			break;
		case 'k':
			manifest = optarg;
			break;
		case 'n':
			pages = atoi(optarg);
			break;
		case 'm':
			lines = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: hment-top [-s] [-n PAGES] [-m LINES] | [-s] -k MANIFEST [-m LINES] | -c\n");
			return 2;
		}
	}
	if (sync)
		sync_now();
	if (manifest)
		kinds(manifest, lines);
	else
		top(pages, lines);
	return 0;
}
