// SPDX-License-Identifier: GPL-2.0
/*
 * What every suite of hment-stress uses: TAP, debugfs, /proc, a PRNG.
 */
#include "stress.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ---- TAP ---- */

struct tap {
	unsigned long n, failed;
};

static struct tap *tap;

/* Shared, so that forked children continue one numbering. */
void tap_init(void)
{
	tap = mmap(NULL, sizeof(*tap), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tap == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
}

bool tap_ok(bool ok, const char *fmt, ...)
{
	unsigned long n = __atomic_add_fetch(&tap->n, 1, __ATOMIC_SEQ_CST);
	char line[512];
	va_list ap;

	if (!ok)
		__atomic_add_fetch(&tap->failed, 1, __ATOMIC_SEQ_CST);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("%sok %lu - %s\n", ok ? "" : "not ", n, line);
	fflush(stdout);
	return ok;
}

void tap_diag(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("# %s\n", line);
	fflush(stdout);
}

void tap_plan(void)
{
	printf("1..%lu\n", tap->n);
	fflush(stdout);
}

unsigned long tap_failed(void)
{
	return tap->failed;
}

/* ---- debugfs ---- */

int hm_open(const char *name, int flags)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), HM_DIR "%s", name);
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno - HM_EOPEN : fd;
}

/* One write(2) of exactly @len bytes: 0, -errno, or the open's failure. */
int hm_write(const char *name, const void *buf, size_t len)
{
	int fd = hm_open(name, O_WRONLY), err = 0;
	ssize_t n;

	if (fd < 0)
		return fd;
	n = write(fd, buf, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EMSGSIZE;	/* a short count is never right here */
	close(fd);
	return err;
}

int hm_write_str(const char *name, const char *s)
{
	return hm_write(name, s, strlen(s));
}

ssize_t hm_read_fd(int fd, char *buf, size_t size)
{
	size_t done = 0;
	ssize_t n;

	while (done + 1 < size) {
		n = read(fd, buf + done, size - 1 - done);
		if (n < 0) {
			buf[done] = '\0';
			return -errno;
		}
		if (!n)
			break;
		done += n;
	}
	buf[done] = '\0';
	return done;
}

/* The whole text file, NUL-terminated; -errno (or an open failure). */
ssize_t hm_read(const char *name, char *buf, size_t size)
{
	int fd = hm_open(name, O_RDONLY);
	ssize_t n;

	if (fd < 0) {
		buf[0] = '\0';
		return fd;
	}
	n = hm_read_fd(fd, buf, size);
	close(fd);
	return n;
}

/* One value of a `name value` listing, -1 if absent. */
long hm_stat(const char *stats, const char *name)
{
	size_t len = strlen(name);
	const char *p = stats;

	while (p && *p) {
		if (!strncmp(p, name, len) && p[len] == ' ')
			return strtol(p + len + 1, NULL, 0);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

bool hm_stats(long *out, const char *const *names, int n)
{
	static char buf[16384];
	int i;

	if (hm_read("stats", buf, sizeof(buf)) < 0)
		return false;
	for (i = 0; i < n; i++)
		out[i] = hm_stat(buf, names[i]);
	return true;
}

/*
 * Read verify: 1 if its first line is "ok", 0 if not (the first lines go
 * to @first), or the read's -errno.
 */
int hm_verify(char *first, size_t size)
{
	static char buf[65536];
	ssize_t n = hm_read("verify", buf, sizeof(buf));
	char *nl;

	if (n < 0)
		return n;
	snprintf(first, size, "%s", buf);
	if (!strncmp(buf, "ok\n", 3))
		return 1;
	nl = first;
	for (int lines = 0; nl && lines < 6; lines++) {
		nl = strchr(nl, '\n');
		if (nl)
			*nl++ = lines == 5 ? '\0' : '|';
	}
	return 0;
}

unsigned long hm_max_pfn(void)
{
	static char buf[16384];

	if (hm_read("stats", buf, sizeof(buf)) < 0)
		return 0;
	return hm_stat(buf, "max_pfn");
}

bool hm_loaded(void)
{
	return access(HM_DIR "stats", F_OK) == 0;
}

/* ---- /proc ---- */

u64 pagemap_pfn(pid_t pid, unsigned long va)
{
	char path[64];
	u64 e = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (pread(fd, &e, 8, va / PAGE * 8) != 8)
		e = 0;
	close(fd);
	return e & PM_PRESENT ? e & PM_PFN_MASK : 0;
}

s64 kpagecount_of(const char *path, u64 pfn)
{
	u64 c;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, &c, 8, pfn * 8);
	close(fd);
	return n == 8 ? (s64)c : -1;
}

/* The state letter of /proc/PID/stat, 0 if there is no such process. */
char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* PF_KTHREAD in the flags field of /proc/PID/stat. */
bool is_kthread(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long flags = 0;
	int fd, field;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* after ") ": state ppid pgrp session tty_nr tpgid flags */
	for (field = 0; p && field < 7; field++)
		p = strchr(p + 1, ' ');
	if (p)
		flags = strtoul(p + 1, NULL, 10);
	return flags & 0x00200000;	/* PF_KTHREAD */
}

/* A pid no process has: from the top of the pid space down. */
pid_t free_pid(void)
{
	long max = read_long("/proc/sys/kernel/pid_max");
	pid_t pid;

	for (pid = max > 0 ? max - 1 : 32767; pid > 300; pid--)
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return pid;
	return 0;
}

int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* A small file, NUL-terminated; "" if it cannot be read. */
void read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

/* Any small text file, NUL-terminated; -errno on failure. */
ssize_t read_path(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		buf[0] = '\0';
		return -errno;
	}
	n = hm_read_fd(fd, buf, size);
	close(fd);
	return n;
}

long read_long(const char *path)
{
	char buf[64];

	if (read_path(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 0);
}

const char *errname(int err)
{
	static char other[32];

	switch (err) {
	case 0: return "success";
	case EINVAL: return "EINVAL";
	case ERANGE: return "ERANGE";
	case ESRCH: return "ESRCH";
	case EEXIST: return "EEXIST";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOMEM: return "ENOMEM";
	case ENOENT: return "ENOENT";
	case ENXIO: return "ENXIO";
	case EIO: return "EIO";
	case EINTR: return "EINTR";
	case EBUSY: return "EBUSY";
	case EAGAIN: return "EAGAIN";
	case EFAULT: return "EFAULT";
	case EMSGSIZE: return "short write";
	}
	snprintf(other, sizeof(other), "errno %d", err);
	return other;
}

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* splitmix64: tiny, seedable, good enough to pick inputs. */
u64 rng_next(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

u64 rng_below(u64 *s, u64 n)
{
	return n ? rng_next(s) % n : 0;
}

char *xstrdupmem(const void *p, size_t len)
{
	char *s = malloc(len + 1);

	if (!s) {
		perror("malloc");
		exit(2);
	}
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/* A printable rendering of @len bytes, shortened when long. */
void escape(char *out, size_t size, const char *in, size_t len)
{
	size_t o = 0, i;

	for (i = 0; i < len && o + 8 < size; i++) {
		unsigned char c = in[i];

		if (i == 24 && len > 40) {
			o += snprintf(out + o, size - o, "...(%zu bytes)", len);
			break;
		}
		if (c == '\n')
			o += snprintf(out + o, size - o, "\\n");
		else if (c == '\t')
			o += snprintf(out + o, size - o, "\\t");
		else if (c == '"' || c == '\\')
			o += snprintf(out + o, size - o, "\\%c", c);
		else if (c < 32 || c > 126)
			o += snprintf(out + o, size - o, "\\x%02x", c);
		else
			out[o++] = c;
	}
	out[o < size ? o : size - 1] = '\0';
}
