// SPDX-License-Identifier: GPL-2.0
/*
 * What the soak's processes do to their memory: map anonymous, shmem and
 * file memory, touch it, mremap, munmap whole or in part, mprotect, and
 * MADV_DONTNEED / MADV_FREE it, in a random order. Every change to a
 * tracked mm reaches hment through its mmu notifier.
 */
#include "stress.h"
#include "soak.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SOAK_FILES	4
#define FILE_PAGES	256
#define MAX_REGIONS	16

enum { R_ANON, R_SHMEM, R_FILE, R_EXE };

struct region {
	char *addr;
	size_t len;
	int kind;
};

struct soak_shared *sh;	/* NULL in an exec'd child: nothing counted */

static void count(int c)
{
	if (sh)
		__atomic_add_fetch(&sh->c[c], 1, __ATOMIC_RELAXED);
}

/* Files the churn maps, on the guest's tmpfs: only the soak uses them. */
void churn_files(void)
{
	static char page[PAGE];
	char path[64];
	int fd, i, p;

	mkdir(SOAK_DIR, 0700);
	for (i = 0; i < SOAK_FILES; i++) {
		snprintf(path, sizeof(path), SOAK_DIR "/file%d", i);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			continue;
		for (p = 0; p < FILE_PAGES; p++) {
			memset(page, 'a' + p % 26, sizeof(page));
			if (write(fd, page, sizeof(page)) < 0)
				break;
		}
		close(fd);
	}
}

/* Fault in every page of [p, p + len), writing or only reading. */
void touch(char *p, size_t len, bool write)
{
	for (size_t off = 0; off < len; off += PAGE) {
		if (write)
			p[off]++;
		else
			(void)READ_ONCE(p[off]);
	}
}

static bool map_region(u64 *rng, struct region *r)
{
	size_t pages = 1 + rng_below(rng, 64);
	int fd = -1, flags, prot = PROT_READ | PROT_WRITE;
	char path[64];
	off_t off = 0;

	r->kind = rng_below(rng, 4);
	r->len = pages * PAGE;
	switch (r->kind) {
	case R_ANON:
		flags = MAP_PRIVATE | MAP_ANONYMOUS;
		break;
	case R_SHMEM:
		flags = MAP_SHARED | MAP_ANONYMOUS;
		break;
	case R_FILE:
		snprintf(path, sizeof(path), SOAK_DIR "/file%d",
			 (int)rng_below(rng, SOAK_FILES));
		fd = open(path, O_RDWR | O_CLOEXEC);
		flags = rng_below(rng, 2) ? MAP_SHARED : MAP_PRIVATE;
		off = rng_below(rng, FILE_PAGES - pages + 1) * PAGE;
		if (pages > FILE_PAGES)
			return false;
		break;
	default:	/* the program itself: text shared by every process */
		fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		flags = MAP_PRIVATE;
		prot = PROT_READ;
		r->len = (1 + rng_below(rng, 16)) * PAGE;
	}
	if (r->kind >= R_FILE && fd < 0)
		return false;
	r->addr = mmap(NULL, r->len, prot, flags, fd, off);
	if (fd >= 0)
		close(fd);
	if (r->addr == MAP_FAILED)
		return false;
	count(C_MMAPS);
	touch(r->addr, r->len, r->kind != R_EXE);
	return true;
}

/* A page-aligned piece of @r: [*start, *start + *len). */
static void piece(u64 *rng, const struct region *r, char **start,
		  size_t *len)
{
	size_t pages = r->len / PAGE, first = rng_below(rng, pages);

	*start = r->addr + first * PAGE;
	*len = (1 + rng_below(rng, pages - first)) * PAGE;
}

void mem_churn(u64 *rng, int ops)
{
	struct region reg[MAX_REGIONS];
	int n = 0, i;

	while (ops-- > 0) {
		unsigned int op = rng_below(rng, 10);
		struct region *r;
		size_t len;
		char *p;

		if (!n || (op < 3 && n < MAX_REGIONS)) {
			if (map_region(rng, &reg[n]))
				n++;
			continue;
		}
		i = rng_below(rng, n);
		r = &reg[i];
		switch (op) {
		case 3:		/* grow, shrink or move */
			if (r->kind == R_EXE)
				break;
			len = (1 + rng_below(rng, 96)) * PAGE;
			/*
			 * Only private anonymous memory grows: a file's or
			 * shmem object's end is fixed, and past it is SIGBUS.
			 */
			if (r->kind != R_ANON && len > r->len)
				len = r->len;
			p = mremap(r->addr, r->len, len, MREMAP_MAYMOVE);
			if (p == MAP_FAILED)
				break;
			count(C_MREMAPS);
			r->addr = p;
			r->len = len;
			touch(p, len, true);
			break;
		case 4:		/* all of it */
			munmap(r->addr, r->len);
			count(C_MUNMAPS);
			reg[i] = reg[--n];
			break;
		case 5:		/* a hole in the middle: the VMA splits */
			if (r->len < 3 * PAGE)
				break;
			munmap(r->addr + PAGE, PAGE);
			count(C_MUNMAPS);
			p = r->addr + 2 * PAGE;
			len = r->len - 2 * PAGE;
			r->len = PAGE;
			if (n < MAX_REGIONS)
				reg[n++] = (struct region){ p, len, r->kind };
			else
				munmap(p, len);
			break;
		case 6:
			piece(rng, r, &p, &len);
			if (!mprotect(p, len, PROT_READ))
				count(C_MPROTECTS);
			if (r->kind != R_EXE)
				mprotect(p, len, PROT_READ | PROT_WRITE);
			break;
		case 7:
			piece(rng, r, &p, &len);
			if (!madvise(p, len, MADV_DONTNEED))
				count(C_DONTNEED);
			if (r->kind != R_FILE || rng_below(rng, 2))
				touch(p, len, r->kind != R_EXE);
			break;
		default:
			piece(rng, r, &p, &len);
			/* private anonymous only; EINVAL elsewhere */
			if (!madvise(p, len, MADV_FREE))
				count(C_FREE);
			if (rng_below(rng, 2))
				touch(p, len, r->kind != R_EXE);
		}
	}
	for (i = 0; i < n; i++) {
		munmap(reg[i].addr, reg[i].len);
		count(C_MUNMAPS);
	}
}
