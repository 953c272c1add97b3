// SPDX-License-Identifier: GPL-2.0
/*
 * hment-stress fuzz [--seed N] [--count N] [--seconds N]: random bytes
 * into every writable debugfs file, and preads of kpagecount at random
 * offsets and sizes, past its end included. Bounded in count and in time;
 * the seed is printed so a run can be repeated.
 *
 * Every answer is checked against a model of the kernel's parsers
 * (hment_write_string() and parse.c for the module's own files; for the
 * knobs, hment_write_knob(): kstrtoull of the whole write, which must be
 * shorter than 32 bytes and hold no NUL): a write the model rejects must
 * fail with the model's errno; one it accepts may fail only for a reason
 * the model cannot know (no such process, tracked already, injected
 * ENOMEM). A pread returns exactly
 * min(size, end - offset) bytes, 0 from the end on. At the end the knobs
 * go back, a sync runs and `verify` must be ok; the splat check is the
 * test box's.
 *
 * `inject` is modelled as inject.c parses it; an arm the model accepts
 * with a hold above INJECT_SAFE_MS is not written (a sync held at an
 * address some process maps would wait that long at each entry), and
 * injection goes off with the knobs and at the end, where it must read
 * back off with no walker held.
 */
#include "stress.h"

#include <errno.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WRITE_MAX	32	/* the module's HMENT_WRITE_MAX */
#define INT_MAX_	2147483647ULL
#define SITES_MASK	0x3fULL
#define RESERVE_SAFE	4096	/* more would only eat the guest's memory */
#define SHOW_MAX	20	/* unexpected answers printed */
#define INJECT_MAX_MS	10000	/* inject.c's HMENT_INJECT_MAX_MS */
#define INJECT_SAFE_MS	20

/* The module's own files, then the knobs (hment_write_knob()). */
enum { F_LOOKUP, F_TRACK, F_SYNC, F_WALK, F_INJECT, F_RESERVE, F_NTH,
	F_EVERY, F_SITES, NFILES };
static const char *const names[NFILES] = {
	"lookup", "track", "sync", "walk", "inject",
	"reserve_amount", "fail_nth", "fail_every", "fail_sites",
};

static unsigned long max_pfn, tried[NFILES], wrong[NFILES], accepted[NFILES];
static unsigned long shown;
static bool injecting;	/* fail_nth or fail_every may be on: ENOMEM is fair */

/* ---- the model ---- */

static bool k_isspace(unsigned char c)
{
	return (c >= 9 && c <= 13) || c == ' ' || c == 0xa0;
}

/* lib/kstrtox.c's _kstrtoull, step by step. */
static int k_strtoull(const char *s, unsigned int base,
		      unsigned long long *res)
{
	unsigned long long r = 0;
	unsigned int rv = 0;
	bool over = false;

	if (s[0] == '+')
		s++;
	if (!base) {
		if (s[0] == '0')
			base = ((s[1] | 0x20) == 'x' &&
				strchr("0123456789abcdefABCDEF", s[2]) && s[2])
				? 16 : 8;
		else
			base = 10;
	}
	if (base == 16 && s[0] == '0' && (s[1] | 0x20) == 'x')
		s += 2;
	for (;; s++, rv++) {
		unsigned int c = (unsigned char)*s, lc = c | 0x20, val;

		if (c >= '0' && c <= '9')
			val = c - '0';
		else if (lc >= 'a' && lc <= 'f')
			val = lc - 'a' + 10;
		else
			break;
		if (val >= base)
			break;
		if ((r & (~0ULL << 60)) && r > (~0ULL - val) / base)
			over = true;
		r = r * base + val;
	}
	if (over)
		return -ERANGE;
	if (!rv)
		return -EINVAL;
	if (*s == '\n')
		s++;
	if (*s)
		return -EINVAL;
	*res = r;
	return 0;
}

/* parse.c's hment_parse_pid. */
static int k_pid(const char *s, long *pid)
{
	unsigned long long v;
	int err;

	if (*s == '-' || *s == '+')
		return -EINVAL;
	err = k_strtoull(s, 10, &v);
	if (err)
		return err;
	if (v > INT_MAX_)
		return -ERANGE;
	if (!v)
		return -EINVAL;
	*pid = v;
	return 0;
}

/* hment_write_string(): the write in @s, stripped, or NULL for EINVAL. */
static char *k_write_string(const char *buf, size_t len, char s[WRITE_MAX])
{
	char *p, *end;

	if (!len || len >= WRITE_MAX || memchr(buf, 0, len))
		return NULL;
	memcpy(s, buf, len);
	s[len] = '\0';
	for (end = s + len; end > s && k_isspace(end[-1]); end--)
		;
	*end = '\0';
	for (p = s; k_isspace(*p); p++)
		;
	return p;
}

/*
 * What the module's own files must answer: -errno when the parse fails,
 * else 0 and, in *pid, the pid the command names (0 if none; negative
 * to untrack).
 */
static int model_own(int f, const char *buf, size_t len, long *pid)
{
	char s[WRITE_MAX], *p = k_write_string(buf, len, s);
	unsigned long long v;
	int err;

	*pid = 0;
	if (!p)
		return -EINVAL;
	switch (f) {
	case F_LOOKUP:
		if (*p == '-' || *p == '+')
			return -EINVAL;
		err = k_strtoull(p, 0, &v);
		if (err)
			return err;
		return v >= max_pfn ? -ERANGE : 0;
	case F_TRACK:
		if (!strcmp(p, "all") || !strcmp(p, "-all"))
			return 0;
		if (*p == '-') {
			err = k_pid(p + 1, pid);
			*pid = -*pid;
			return err;
		}
		return k_pid(p, pid);
	default:	/* sync, walk */
		if (!strcmp(p, "1"))
			return 0;
		if (strncmp(p, "pid ", 4))
			return -EINVAL;
		return k_pid(p + 4, pid);
	}
}

/*
 * inject.c's hment_inject_command(): -errno, or 0 and in *ms the hold an
 * arm asks for (0 for off and release).
 */
static int model_inject(const char *buf, size_t len, unsigned int *ms)
{
	static const char *const points[] = { "leaf ", "table ", "ptes " };
	char s[WRITE_MAX], *p = k_write_string(buf, len, s), *sp;
	unsigned long long v, addr;
	size_t i;
	int err;

	*ms = 0;
	if (!p)
		return -EINVAL;
	if (!strcmp(p, "off") || !strcmp(p, "release"))
		return 0;
	for (i = 0; i < ARRAY_SIZE(points); i++)
		if (!strncmp(p, points[i], strlen(points[i])))
			break;
	if (i == ARRAY_SIZE(points))
		return -EINVAL;
	p += strlen(points[i]);
	sp = strchr(p, ' ');
	if (!sp || !(*p >= '0' && *p <= '9') || !isxdigit((unsigned char)sp[1]))
		return -EINVAL;
	*sp = '\0';
	err = k_strtoull(p, 10, &v);
	if (!err && v > 0xffffffffULL)
		err = -ERANGE;
	if (!err)
		err = k_strtoull(sp + 1, 16, &addr);
	if (err)
		return err;
	if (!v || v > INJECT_MAX_MS)
		return -ERANGE;
	*ms = v;
	return 0;
}

/* hment_write_knob() and the module's set(): -errno, or 0 and the value. */
static int model_knob(int f, const char *buf, size_t len,
		      unsigned long long *val)
{
	char s[WRITE_MAX];
	int err;

	if (!len || len >= WRITE_MAX || memchr(buf, '\0', len))
		return -EINVAL;
	memcpy(s, buf, len);
	s[len] = '\0';
	err = k_strtoull(s, 0, val);
	if (err)
		return err;
	if (f == F_SITES)
		return *val & ~SITES_MASK ? -ERANGE : 0;
	return *val > INT_MAX_ ? -ERANGE : 0;
}

/* ---- inputs ---- */

static const char *const tokens[] = {
	"pid ", "pid", "all", "-all", "kernel", "-kernel", "-", "+", "0x",
	"0", "1", "2", "7", "08", " ", "\n", "\t", "\v", "\xa0", "\0", "x",
	"2147483647", "2147483648", "4294967296", "18446744073709551615",
	"18446744073709551616", "0xffffffffffffffff", "99999999999999999999",
	"leaf ", "table ", "ptes ", "off", "release", "10000", "10001",
};

/* "POINT MS ADDR" for inject, with its parts often near or past a bound. */
static size_t gen_inject(u64 *rng, char *buf, size_t cap)
{
	static const char *const points[] = { "leaf", "table", "ptes", "off",
					      "pud", "lea" };
	static const unsigned long long ms[] = { 0, 1, INJECT_SAFE_MS,
		INJECT_MAX_MS, INJECT_MAX_MS + 1, 4294967296ULL,
		4294967297ULL, ~0ULL };
	unsigned long long m = rng_below(rng, 2) ? rng_below(rng, 2 * INJECT_SAFE_MS) :
			       ms[rng_below(rng, ARRAY_SIZE(ms))];
	int n;

	n = snprintf(buf, cap, rng_below(rng, 2) ? "%s %llu %#llx" : "%s %llu %llx",
		     points[rng_below(rng, ARRAY_SIZE(points))], m,
		     (unsigned long long)rng_next(rng) >> rng_below(rng, 64));
	return n < (int)cap ? (size_t)n : cap;
}

static size_t gen_input(u64 *rng, char *buf, size_t cap, pid_t *pids,
			int npids)
{
	size_t len, i;
	char num[32];

	switch (rng_below(rng, 10)) {
	case 0: case 1: case 2:		/* random bytes, any length */
		len = rng_below(rng, cap + 1);
		for (i = 0; i < len; i++)
			buf[i] = rng_next(rng);
		return len;
	case 3: case 4:			/* random bytes, short */
		len = rng_below(rng, 40);
		for (i = 0; i < len; i++)
			buf[i] = rng_next(rng);
		return len;
	default:			/* tokens, numbers, pids, pfns */
		len = 0;
		for (int t = 1 + rng_below(rng, 4); t > 0; t--) {
			const char *tok;
			size_t tl;

			switch (rng_below(rng, 5)) {
			case 0:
				snprintf(num, sizeof(num), "%d",
					 pids[rng_below(rng, npids)]);
				tok = num;
				break;
			case 1:
				snprintf(num, sizeof(num),
					 rng_below(rng, 2) ? "%lu" : "%#lx",
					 (unsigned long)(max_pfn - 2 +
							 rng_below(rng, 4)));
				tok = num;
				break;
			case 2:
				snprintf(num, sizeof(num), "%llu",
					 (unsigned long long)rng_below(rng,
								       1000));
				tok = num;
				break;
			default:
				tok = tokens[rng_below(rng, sizeof(tokens) /
							     sizeof(tokens[0]))];
			}
			tl = *tok ? strlen(tok) : 1;	/* "\0" is one NUL */
			if (len + tl > cap)
				break;
			memcpy(buf + len, tok, tl);
			len += tl;
		}
		return len;
	}
}

/* ---- checks ---- */

static void unexpected(int f, const char *buf, size_t len, const char *fmt,
		       int a, int b)
{
	char shown_in[128];

	wrong[f]++;
	if (shown++ >= SHOW_MAX)
		return;
	escape(shown_in, sizeof(shown_in), buf, len);
	printf("# fuzz: %s \"%s\": ", names[f], shown_in);
	printf(fmt, errname(a));
	printf(", expected %s\n", errname(b));
}

static void fuzz_write(int f, const char *buf, size_t len)
{
	unsigned long long val = 0;
	int fd = hm_open(names[f], O_WRONLY), err, want;
	char back[64];
	bool fine;
	ssize_t n;
	long pid;

	tried[f]++;
	if (fd < 0) {
		unexpected(f, buf, len, "open: %s", hm_open_errno(fd), 0);
		return;
	}
	n = write(fd, buf, len);
	err = n < 0 ? errno : 0;
	close(fd);
	if (n >= 0 && (size_t)n != len) {
		unexpected(f, buf, len, "short write (%s)", 0, 0);
		return;
	}
	accepted[f] += !err;

	if (f >= F_RESERVE) {
		want = -model_knob(f, buf, len, &val);
		if (err != want) {
			unexpected(f, buf, len, "%s", err, want);
			return;
		}
		if (!err) {
			unsigned long long got;

			hm_read(names[f], back, sizeof(back));
			got = strtoull(back, NULL, 0);
			/* 0 stands for every site: either way of showing it */
			if (got != val && !(f == F_SITES && !val &&
					    got == SITES_MASK))
				unexpected(f, buf, len, "%s but the value read back differs",
					   0, 0);
			if ((f == F_NTH || f == F_EVERY) && val)
				injecting = true;
		}
		return;
	}

	if (f == F_INJECT) {
		unsigned int ms;

		want = -model_inject(buf, len, &ms);
		if (err != want)
			unexpected(f, buf, len, "%s", err, want);
		return;
	}

	want = -model_own(f, buf, len, &pid);
	if (want) {
		if (err != want)
			unexpected(f, buf, len, "%s", err, want);
		return;
	}
	/* parsed: the rest depends on which processes exist and are tracked */
	fine = !err || (injecting && err == ENOMEM) || err == EINTR;
	if (f == F_TRACK && pid > 0)
		fine |= err == ESRCH || err == EEXIST ||
			(err == EINVAL && is_kthread(pid));
	if (f == F_TRACK && pid < 0)
		fine |= err == ESRCH;
	if ((f == F_SYNC || f == F_WALK) && pid)
		fine |= err == ESRCH;
	if (!fine)
		unexpected(f, buf, len, "%s", err, 0);
	if (f == F_LOOKUP && !err) {
		static char out[65536];
		ssize_t r = hm_read("lookup", out, sizeof(out));

		if (r < 0 && !(injecting && r == -ENOMEM))
			unexpected(f, buf, len, "then reading it: %s", -r, 0);
	}
}

static unsigned long preads, pread_wrong, pread_enomem;

static void fuzz_pread(u64 *rng, int fd, char *buf, size_t cap)
{
	s64 end = (s64)max_pfn * 8, off;
	size_t size = rng_below(rng, cap + 1);
	ssize_t n, want;

	switch (rng_below(rng, 8)) {
	case 0: case 1: case 2:
		off = rng_below(rng, end);
		break;
	case 3: case 4:		/* around the end */
		off = end - 65536 + (s64)rng_below(rng, 131072);
		break;
	case 5:
		off = rng_next(rng) >> 1;
		break;
	case 6:
		off = -(s64)rng_below(rng, 1 << 20) - 1;
		break;
	default:		/* unaligned, small */
		off = rng_below(rng, end) | 1;
		size = rng_below(rng, 17);
	}
	n = pread(fd, buf, size, off);
	preads++;
	if (off < 0)
		want = -1;
	else if (off >= end)
		want = 0;
	else
		want = size < (size_t)(end - off) ? (ssize_t)size : end - off;
	if (n == want && (n >= 0 || errno == EINVAL))
		return;
	if (n < 0 && errno == ENOMEM && injecting) {
		pread_enomem++;
		return;
	}
	pread_wrong++;
	if (shown++ < SHOW_MAX)
		printf("# fuzz: pread(kpagecount, %zu, %lld) = %zd (%s), expected %zd\n",
		       size, (long long)off, n, n < 0 ? errname(errno) : "",
		       want);
}

static void knobs_off(const char *reserve)
{
	hm_write_str("fail_nth", "0");
	hm_write_str("fail_every", "0");
	hm_write_str("fail_sites", "0");
	hm_write_str("reserve_amount", reserve);
	hm_write_str("inject", "off");
	injecting = false;
}

int fuzz_main(int argc, char **argv)
{
	u64 seed = 0, rng;
	unsigned long count = 20000, i, total = 0, bad = 0;
	double seconds = 30, t0 = now();
	static char buf[8192], big[1 << 20];
	char reserve[64], first[512];
	pid_t pids[16];
	int npids = 0, fd, v, f;

	for (int a = 1; a + 1 < argc; a += 2) {
		if (!strcmp(argv[a], "--seed"))
			seed = strtoull(argv[a + 1], NULL, 0);
		else if (!strcmp(argv[a], "--count"))
			count = strtoul(argv[a + 1], NULL, 0);
		else if (!strcmp(argv[a], "--seconds"))
			seconds = strtod(argv[a + 1], NULL);
	}
	if (!seed)
		seed = (u64)(now() * 1e9) ^ getpid();
	rng = seed;
	tap_init();
	printf("fuzz: seed %llu, at most %lu inputs or %.0f s\n",
	       (unsigned long long)seed, count, seconds);

	max_pfn = hm_max_pfn();
	if (!tap_ok(max_pfn > 0, "stats gives max_pfn (%lu)", max_pfn))
		goto out;
	if (hm_read("reserve_amount", reserve, sizeof(reserve)) <= 0)
		snprintf(reserve, sizeof(reserve), "200");
	/* pids worth naming: init, us, kernel threads, a free one */
	pids[npids++] = 1;
	pids[npids++] = 2;
	pids[npids++] = 3;
	pids[npids++] = getpid();
	pids[npids++] = getppid();
	pids[npids++] = free_pid();

	fd = hm_open("kpagecount", O_RDONLY);
	for (i = 0; i < count && now() - t0 < seconds; i++) {
		if (rng_below(&rng, 6) == 0 && fd >= 0) {
			fuzz_pread(&rng, fd, big, sizeof(big));
			continue;
		}
		f = rng_below(&rng, NFILES);
		size_t len = f == F_INJECT && rng_below(&rng, 2) ?
			     gen_inject(&rng, buf, sizeof(buf)) :
			     gen_input(&rng, buf, sizeof(buf), pids, npids);

		/* a reserve in the millions would take the guest's memory */
		if (f == F_RESERVE) {
			unsigned long long val;

			if (!model_knob(f, buf, len, &val) &&
			    val > RESERVE_SAFE)
				continue;
		}
		/* nor may an armed hook hold syncs for seconds */
		if (f == F_INJECT) {
			unsigned int ms;

			if (!model_inject(buf, len, &ms) && ms > INJECT_SAFE_MS)
				continue;
		}
		fuzz_write(f, buf, len);
		/* now and then, start from quiet knobs again */
		if (i % 256 == 255)
			knobs_off(reserve);
	}
	if (fd >= 0)
		close(fd);
	knobs_off(reserve);

	for (f = 0; f < NFILES; f++) {
		total += tried[f];
		bad += wrong[f];
		tap_ok(!wrong[f], "fuzz %s: %lu writes, %lu accepted, %lu answered wrongly",
		       names[f], tried[f], accepted[f], wrong[f]);
	}
	{
		char st[256];
		bool off = hm_read("inject", st, sizeof(st)) > 0 &&
			   !strncmp(st, "off ", 4) &&
			   strstr(st, " waiting 0\n");

		tap_ok(off, "inject off after the fuzz, no walker held: %.*s",
		       (int)strcspn(st, "\n"), st);
	}
	tap_ok(fd >= 0 && !pread_wrong,
	       "fuzz kpagecount: %lu preads, %lu wrong, %lu ENOMEM while injecting",
	       preads, pread_wrong, pread_enomem);
	v = hm_write_str("sync", "1");
	tap_ok(!v, "sync after the fuzz: %s", errname(-v));
	v = hm_verify(first, sizeof(first));
	if (!tap_ok(v == 1, "verify ok after the fuzz"))
		tap_diag("verify: %s", v < 0 ? errname(-v) : first);
	printf("fuzz: seed %llu, %lu inputs (%lu writes, %lu preads) in %.1f s, %lu wrong\n",
	       (unsigned long long)seed, total + preads, total, preads,
	       now() - t0, bad + pread_wrong);
out:
	tap_plan();
	return tap_failed() ? 1 : 0;
}
