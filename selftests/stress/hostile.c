// SPDX-License-Identifier: GPL-2.0
/*
 * hment-stress hostile: every writable debugfs file against a table of bad
 * writes. Each case is one write(2) on a fresh descriptor and must fail
 * with the documented errno and change nothing: the knobs' values, the
 * track listing (who is tracked, and the all/kernel switches), the gauges
 * of stats, what sync, walk and lookup show. Then a few good writes,
 * repeated without reads, and `verify` must be ok.
 *
 * The errnos:
 *  - lookup, track, sync, walk (hment_write_string() and parse.c): empty,
 *    31 bytes or more, or an embedded NUL: EINVAL; white space around is
 *    stripped; not a number, a sign, trailing garbage: EINVAL; beyond an
 *    int (pids) or an unsigned long, or a pfn from max_pfn on: ERANGE; no
 *    such process, an exiting or untracked one: ESRCH; a kernel thread:
 *    EINVAL to track (ESRCH to untrack or sync: never tracked); tracked
 *    already: EEXIST.
 *  - reserve_amount, fail_nth, fail_every, fail_sites (debugfs.c
 *    hment_write_knob()): empty, 31 bytes or more, or an embedded NUL:
 *    EINVAL, as for the files above; then kstrtoull(base 0) of the whole
 *    write, so garbage, a sign or white space (but one trailing newline)
 *    is EINVAL and a number beyond a u64 is ERANGE; then the module's own
 *    check, ERANGE above INT_MAX or outside the site mask, and for
 *    reserve_amount above a 256th of RAM in hments (hment_reserve_max()).
 *  - inject (inject.c): copied and stripped as lookup's; then "off",
 *    "release" (with nothing held: a no-op) or "POINT MS ADDR", single
 *    spaces, POINT one of leaf, table, ptes, MS decimal and ADDR hex, each
 *    by kstrto*: else EINVAL; a number beyond an unsigned int (MS) or an
 *    unsigned long (ADDR), or MS outside 1..10000: ERANGE. Nothing here
 *    may arm it: what it reads back must stay "off".
 */
#include "stress.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

struct hcase {
	const char *file;
	const char *what;
	char *data;
	size_t len;
	int err;
	int repeat;	/* writes on the same descriptor, no read between */
};

static struct hcase cases[512];
static int ncases;

static const char *const own_files[] = { "lookup", "track", "sync", "walk" };
static const char *const knob_files[] = {
	"reserve_amount", "fail_nth", "fail_every", "fail_sites",
};

/*
 * Gauges only a sync, a track or a knob moves. Not mappings or live_hments:
 * like the track listing's counts, they move with the processes (the
 * notifier drops an entry whenever the kernel migrates or collapses a page
 * of any tracked process), so they say nothing about these writes.
 */
static const char *const gauges[] = {
	"hats", "htables", "stale_htables", "records", "reserve_amount",
};

#define NGAUGES	((int)ARRAY_SIZE(gauges))

struct state {
	char knob[4][64];
	char track[8192];
	long gauge[NGAUGES];
	char sync[1024], walk[1024], lookup[8192], inject[256];
};

static void add(const char *file, const char *what, const void *data,
		size_t len, int err, int repeat)
{
	if (ncases == (int)ARRAY_SIZE(cases)) {
		fprintf(stderr, "hostile: too many cases\n");
		exit(2);
	}
	cases[ncases++] = (struct hcase){ file, what, xstrdupmem(data, len),
					  len, err, repeat };
}

/* A string case; C string literals may hold NULs, so take the length. */
#define ADD(file, what, lit, err) add(file, what, lit, sizeof(lit) - 1, err, 1)

static void addf(const char *file, const char *what, int err,
		 const char *fmt, ...) __printf(4, 5);

static void addf(const char *file, const char *what, int err,
		 const char *fmt, ...)
{
	char buf[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	add(file, what, buf, strlen(buf), err, 1);
}

static char *filled(const char *prefix, char fill, size_t len)
{
	char *p = malloc(len);
	size_t plen = strlen(prefix);

	memset(p, fill, len);
	memcpy(p, prefix, plen < len ? plen : len);
	return p;
}

/* Keep pid, comm and "exited"; the counts move with the processes. */
static void read_track(char *out, size_t size)
{
	static char buf[8192];
	char *line, *save, *sp;
	size_t o = 0;
	bool exited;

	out[0] = '\0';
	if (hm_read("track", buf, sizeof(buf)) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		exited = false;
		if (line[0] != '#') {
			sp = strstr(line, " exited");
			if (sp && !sp[7]) {
				*sp = '\0';
				exited = true;
			}
			for (int i = 0; i < 2; i++) {
				sp = strrchr(line, ' ');
				if (sp)
					*sp = '\0';
			}
		}
		o += snprintf(out + o, size - o, "%s%s\n", line,
			      exited ? " exited" : "");
		if (o >= size)
			break;
	}
}

/*
 * Reading stats walks every hash bucket: slow under TCG and KASAN, so the
 * gauges are compared once per file, after all its cases, and the rest
 * after each case.
 */
static void snapshot(struct state *s, bool gauges_too)
{
	for (int i = 0; i < 4; i++) {
		hm_read(knob_files[i], s->knob[i], sizeof(s->knob[i]));
		s->knob[i][strcspn(s->knob[i], "\n")] = '\0';
	}
	read_track(s->track, sizeof(s->track));
	if (gauges_too && !hm_stats(s->gauge, gauges, NGAUGES))
		memset(s->gauge, 0xff, sizeof(s->gauge));
	hm_read("sync", s->sync, sizeof(s->sync));
	hm_read("walk", s->walk, sizeof(s->walk));
	hm_read("lookup", s->lookup, sizeof(s->lookup));
	hm_read("inject", s->inject, sizeof(s->inject));
}

/* What differs, or NULL. */
static const char *diff(const struct state *a, const struct state *b,
			bool gauges_too)
{
	static char why[256];

	for (int i = 0; i < 4; i++)
		if (strcmp(a->knob[i], b->knob[i])) {
			snprintf(why, sizeof(why), "%s was %.20s now %.20s",
				 knob_files[i], a->knob[i], b->knob[i]);
			return why;
		}
	for (int i = 0; gauges_too && i < NGAUGES; i++)
		if (a->gauge[i] != b->gauge[i]) {
			snprintf(why, sizeof(why), "stats %s was %ld now %ld",
				 gauges[i], a->gauge[i], b->gauge[i]);
			return why;
		}
	if (strcmp(a->track, b->track))
		return "the track listing changed";
	if (strcmp(a->sync, b->sync))
		return "sync's last-sync report changed";
	if (strcmp(a->walk, b->walk))
		return "walk's last-walk report changed";
	if (strcmp(a->lookup, b->lookup))
		return "lookup's listing changed";
	if (strcmp(a->inject, b->inject))
		return "inject's state changed";
	return NULL;
}

static struct state base;
static unsigned long self_pfn;

/* Put back what a wrongly accepted write changed, then start afresh. */
static void restore(void)
{
	char pfn[32];

	for (int i = 0; i < 4; i++)
		hm_write_str(knob_files[i], base.knob[i]);
	snprintf(pfn, sizeof(pfn), "%lu", self_pfn);
	hm_write_str("lookup", pfn);
	hm_write_str("inject", "off");
	snapshot(&base, true);
}

static void run_case(const struct hcase *c)
{
	int fd = hm_open(c->file, O_WRONLY), bad = 0, err = 0;
	char shown[128];
	struct state after;
	const char *changed;
	ssize_t n = 0;

	escape(shown, sizeof(shown), c->data, c->len);
	if (fd < 0) {
		tap_ok(false, "%s: %s: open: %s", c->file, c->what,
		       errname(hm_open_errno(fd)));
		return;
	}
	for (int i = 0; i < c->repeat; i++) {
		n = write(fd, c->data, c->len);
		err = n < 0 ? errno : 0;
		if (n >= 0 || err != c->err)
			bad++;
	}
	close(fd);
	snapshot(&after, false);
	changed = diff(&base, &after, false);
	if (!tap_ok(!bad && !changed, "%s: %s \"%s\"%s -> %s", c->file,
		    c->what, shown, c->repeat > 1 ? " repeated" : "",
		    errname(c->err))) {
		if (bad)
			tap_diag("  got %s (%zd)%s", n < 0 ? errname(err) :
				 "success", n, c->repeat > 1 ?
				 ", at least once" : "");
		if (changed)
			tap_diag("  and it changed something: %s", changed);
	}
	if (changed)
		restore();
}

/* MemTotal in kB, from /proc/meminfo (0 if it cannot be read). */
static unsigned long mem_total_kb(void)
{
	char buf[4096], *p;

	read_text("/proc/meminfo", buf, sizeof(buf));
	p = strstr(buf, "MemTotal:");
	return p ? strtoul(p + 9, NULL, 10) : 0;
}

static void build_cases(unsigned long max_pfn, pid_t nopid, pid_t zombie,
			pid_t untracked, pid_t self)
{
	size_t big = 5000;	/* beyond a page */
	int i;

	/* The same hostile shapes for every writable file. */
	for (i = 0; i < 9; i++) {
		const char *f = i < 4 ? own_files[i] :
				i < 8 ? knob_files[i - 4] : "inject";

		add(f, "empty", "", 0, EINVAL, 1);
		ADD(f, "space", " ", EINVAL);
		ADD(f, "newline", "\n", EINVAL);
		ADD(f, "white space", " \t\x20\n ", EINVAL);
		add(f, "overlong letters", filled("", 'x', big), big, EINVAL, 1);
		add(f, "overlong digits", filled("", '9', big), big, EINVAL, 1);
		add(f, "32 bytes, a digit and spaces", filled("1", ' ', 32), 32,
		    EINVAL, 1);
		/* a valid number in the first 23 bytes, garbage after */
		add(f, "overlong, valid 23-byte prefix",
		    filled("00000000000000000000001", 'x', big), big, EINVAL, 1);
		ADD(f, "NUL", "\0", EINVAL);
		ADD(f, "NUL first", "\0001", EINVAL);
		ADD(f, "embedded NUL", "1\0002", EINVAL);
		ADD(f, "trailing NUL", "1\0", EINVAL);
		ADD(f, "non-numeric", "abc", EINVAL);
		ADD(f, "trailing garbage", "1x", EINVAL);
		ADD(f, "two numbers", "1 2", EINVAL);
		add(f, "non-numeric", "abc", 3, EINVAL, 64);
	}

	ADD("lookup", "negative", "-1", EINVAL);
	ADD("lookup", "minus zero", "-0", EINVAL);
	ADD("lookup", "plus", "+1", EINVAL);
	ADD("lookup", "bare 0x", "0x", EINVAL);
	ADD("lookup", "bad octal", "08", EINVAL);
	ADD("lookup", "bad hex", "0x1g", EINVAL);
	ADD("lookup", "overflowing", "18446744073709551616", ERANGE);
	ADD("lookup", "overflowing hex", "0x1ffffffffffffffff", ERANGE);
	ADD("lookup", "overflowing", "99999999999999999999999999", ERANGE);
	addf("lookup", "the last pfn + 1", ERANGE, "%lu", max_pfn);
	addf("lookup", "the last pfn + 2", ERANGE, "%lu", max_pfn + 1);
	addf("lookup", "the last pfn + 1, hex", ERANGE, "%#lx", max_pfn);
	addf("lookup", "the last pfn + 1, octal", ERANGE, "0%lo", max_pfn);
	ADD("lookup", "ULONG_MAX", "0xffffffffffffffff", ERANGE);
	add("lookup", "beyond the last pfn", "18446744073709551615", 20,
	    ERANGE, 64);

	ADD("track", "negative", "--1", EINVAL);
	ADD("track", "lone minus", "-", EINVAL);
	ADD("track", "pid 0", "0", EINVAL);
	ADD("track", "pid -0", "-0", EINVAL);
	ADD("track", "plus", "+5", EINVAL);
	ADD("track", "minus plus", "-+5", EINVAL);
	ADD("track", "hex pid", "0x2a", EINVAL);
	ADD("track", "upper case", "ALL", EINVAL);
	ADD("track", "garbage after a word", "allx", EINVAL);
	ADD("track", "garbage after a word", "all 1", EINVAL);
	ADD("track", "the kernel's tables (not walked)", "kernel", EINVAL);
	ADD("track", "the kernel's tables, untrack", "-kernel", EINVAL);
	ADD("track", "garbage after -pid", "-1x", EINVAL);
	ADD("track", "overflowing", "2147483648", ERANGE);
	ADD("track", "overflowing untrack", "-2147483648", ERANGE);
	ADD("track", "overflowing", "99999999999999999999", ERANGE);
	addf("track", "no such pid", ESRCH, "%d", nopid);
	addf("track", "no such pid, untrack", ESRCH, "-%d", nopid);
	ADD("track", "INT_MAX, no such pid", "2147483647", ESRCH);
	ADD("track", "kernel thread (kthreadd)", "2", EINVAL);
	ADD("track", "kernel thread, untrack", "-2", ESRCH);
	addf("track", "zombie", ESRCH, "%d", zombie);
	addf("track", "zombie, untrack", ESRCH, "-%d", zombie);
	addf("track", "live but untracked, untrack", ESRCH, "-%d", untracked);
	addf("track", "tracked already (self)", EEXIST, "%d", self);
	add("track", "kernel thread (kthreadd)", "2", 1, EINVAL, 64);
	{
		char b[32];

		snprintf(b, sizeof(b), "-%d", nopid);
		add("track", "no such pid, untrack", b, strlen(b), ESRCH, 64);
		snprintf(b, sizeof(b), "%d", self);
		add("track", "tracked already (self)", b, strlen(b), EEXIST,
		    64);
	}

	for (i = 2; i < 4; i++) {
		const char *f = own_files[i];

		ADD(f, "negative", "-1", EINVAL);
		ADD(f, "zero", "0", EINVAL);
		ADD(f, "two", "2", EINVAL);
		ADD(f, "eleven", "11", EINVAL);
		ADD(f, "bare pid", "pid", EINVAL);
		ADD(f, "pid 0", "pid 0", EINVAL);
		ADD(f, "negative pid", "pid -1", EINVAL);
		ADD(f, "plus pid", "pid +1", EINVAL);
		ADD(f, "two spaces", "pid  1", EINVAL);
		ADD(f, "hex pid", "pid 0x2a", EINVAL);
		ADD(f, "upper case", "PID 1", EINVAL);
		ADD(f, "garbage after pid", "pid 1x", EINVAL);
		ADD(f, "overflowing pid", "pid 2147483648", ERANGE);
		ADD(f, "overflowing pid", "pid 99999999999999999999999", ERANGE);
		addf(f, "no such pid", ESRCH, "pid %d", nopid);
		ADD(f, "kernel thread", "pid 2", ESRCH);
		addf(f, "zombie", ESRCH, "pid %d", zombie);
		addf(f, "untracked", ESRCH, "pid %d", untracked);
		add(f, "kernel thread", "pid 2", 5, ESRCH, 64);
	}

	for (i = 0; i < 4; i++) {
		const char *f = knob_files[i];

		ADD(f, "negative", "-1", EINVAL);
		ADD(f, "minus zero", "-0", EINVAL);
		ADD(f, "leading space", " 5", EINVAL);
		ADD(f, "bare 0x", "0x", EINVAL);
		ADD(f, "bad octal", "08", EINVAL);
		ADD(f, "fraction", "1.5", EINVAL);
		/* kstrtoull takes one newline; the own files strip them all */
		ADD(f, "two newlines", "1\n\n", EINVAL);
		ADD(f, "trailing space", "1 ", EINVAL);
		ADD(f, "overflowing", "18446744073709551616", ERANGE);
		ADD(f, "above INT_MAX", "2147483648", ERANGE);
		ADD(f, "above INT_MAX, hex", "0x80000000", ERANGE);
		ADD(f, "above UINT_MAX", "4294967296", ERANGE);
		add(f, "above INT_MAX", "2147483648", 10, ERANGE, 64);
	}
	/* a fill this large called the guest's OOM killer */
	ADD("reserve_amount", "INT_MAX", "2147483647", ERANGE);
	addf("reserve_amount", "a 64th of RAM in hments", ERANGE, "%lu",
	     mem_total_kb() * 1024 / 64 / 40);
	ADD("fail_sites", "unknown site", "64", ERANGE);
	ADD("fail_sites", "unknown site, hex", "0x40", ERANGE);
	ADD("fail_sites", "unknown and known sites", "255", ERANGE);

	ADD("inject", "upper case", "LEAF 1 1000", EINVAL);
	ADD("inject", "unknown point", "pud 1 1000", EINVAL);
	ADD("inject", "the off point armed", "off 1 1000", EINVAL);
	ADD("inject", "a point's prefix", "lea 1 1000", EINVAL);
	ADD("inject", "garbage after a point", "leafx 1 1000", EINVAL);
	ADD("inject", "garbage after off", "off 1", EINVAL);
	ADD("inject", "release with an argument", "release 1", EINVAL);
	ADD("inject", "point alone", "leaf", EINVAL);
	ADD("inject", "no address", "leaf 1", EINVAL);
	ADD("inject", "no address, a space", "leaf 1 ", EINVAL);
	ADD("inject", "two spaces", "leaf  1 1000", EINVAL);
	ADD("inject", "a tab", "leaf\t1 1000", EINVAL);
	ADD("inject", "a fourth field", "leaf 1 1000 2", EINVAL);
	ADD("inject", "trailing garbage", "leaf 1 1000x", EINVAL);
	ADD("inject", "negative ms", "leaf -1 1000", EINVAL);
	ADD("inject", "plus ms", "leaf +1 1000", EINVAL);
	ADD("inject", "hex ms", "leaf 0x10 1000", EINVAL);
	ADD("inject", "fractional ms", "leaf 1.5 1000", EINVAL);
	ADD("inject", "negative address", "leaf 1 -1000", EINVAL);
	ADD("inject", "plus address", "leaf 1 +1000", EINVAL);
	ADD("inject", "bare 0x address", "leaf 1 0x", EINVAL);
	ADD("inject", "non-hex address", "leaf 1 1000g", EINVAL);
	ADD("inject", "ms 0", "leaf 0 1000", ERANGE);
	ADD("inject", "ms 0, table", "table 0 1000", ERANGE);
	ADD("inject", "ms 10001", "ptes 10001 1000", ERANGE);
	ADD("inject", "ms 10001, leading 0", "leaf 010001 1000", ERANGE);
	ADD("inject", "ms UINT_MAX", "leaf 4294967295 1000", ERANGE);
	/* a parser that wraps would take these as 0 and 1 ms */
	ADD("inject", "ms 2^32", "leaf 4294967296 1000", ERANGE);
	ADD("inject", "ms 2^32 + 1", "leaf 4294967297 1000", ERANGE);
	ADD("inject", "ms 2^64 + 1", "leaf 18446744073709551617 1", ERANGE);
	ADD("inject", "overflowing address", "leaf 1 1ffffffffffffffff", ERANGE);
	ADD("inject", "overflowing address, 0x", "leaf 1 0x10000000000000000",
	    ERANGE);
	add("inject", "ms 10001", "leaf 10001 1000", 15, ERANGE, 64);
}

/* Good writes, repeated on one descriptor without reading in between. */
static void good_repeats(pid_t self)
{
	static char buf[8192];
	char val[64], pfn[32], want[32];
	int fd, bad, i;

	snprintf(pfn, sizeof(pfn), "%lu\n", self_pfn);
	fd = hm_open("lookup", O_RDWR);
	for (bad = i = 0; fd >= 0 && i < 64; i++)
		bad += write(fd, pfn, strlen(pfn)) != (ssize_t)strlen(pfn);
	if (fd >= 0)
		close(fd);
	hm_read("lookup", buf, sizeof(buf));
	snprintf(want, sizeof(want), "%d 0x", self);
	tap_ok(fd >= 0 && !bad && strstr(buf, want),
	       "lookup: our pfn written 64 times, then read: lists us");

	for (i = 0; i < 4; i++) {
		hm_read(knob_files[i], val, sizeof(val));
		fd = hm_open(knob_files[i], O_WRONLY);
		for (bad = 0, errno = 0; fd >= 0 && bad >= 0 && bad < 64; bad++)
			if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
				break;
		if (fd >= 0)
			close(fd);
		hm_read(knob_files[i], buf, sizeof(buf));
		tap_ok(bad == 64 && !strcmp(val, buf),
		       "%s: its own value written 64 times: unchanged", knob_files[i]);
	}

	for (const char *const *f = (const char *const[]){ "sync", "walk",
	     "track", NULL }; *f; f++) {
		const char *cmd = strcmp(*f, "track") ? "1\n" : "all\n";

		fd = hm_open(*f, O_WRONLY);
		for (bad = 0; fd >= 0 && bad < 8; bad++)
			if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
				break;
		if (fd >= 0)
			close(fd);
		tap_ok(bad == 8, "%s: \"%.*s\" written 8 times: each accepted",
		       *f, (int)strlen(cmd) - 1, cmd);
	}
}

/*
 * With nothing held, "release" and "off" are accepted and change nothing,
 * repeated on one descriptor; armed at an address no process maps (page
 * 0), a sync is not held, and "off" reads back as off.
 */
static void inject_idle(void)
{
	char before[256], buf[256];
	const char *const cmds[] = { "release", "off\n", "release\n", "off" };
	long hits, hits0;
	int fd, bad, i, err;

	hm_read("inject", before, sizeof(before));
	fd = hm_open("inject", O_WRONLY);
	for (bad = 0, i = 0; fd >= 0 && i < 64; i++)
		bad += write(fd, cmds[i % 4], strlen(cmds[i % 4])) !=
		       (ssize_t)strlen(cmds[i % 4]);
	if (fd >= 0)
		close(fd);
	hm_read("inject", buf, sizeof(buf));
	tap_ok(fd >= 0 && !bad && !strcmp(before, buf) &&
	       !strncmp(buf, "off ", 4),
	       "inject: release and off with nothing held, 64 times: accepted, nothing changed");

	err = hm_write_str("inject", "leaf 10000 0");
	hm_read("inject", buf, sizeof(buf));
	hits0 = strstr(buf, " hits ") ? atol(strstr(buf, " hits ") + 6) : -1;
	i = hm_write_str("sync", "1");
	hm_read("inject", buf, sizeof(buf));
	hits = strstr(buf, " hits ") ? atol(strstr(buf, " hits ") + 6) : -2;
	err = err ? err : hm_write_str("inject", "off");
	hm_read("inject", before, sizeof(before));
	tap_ok(!err && !i && hits == hits0 && !strncmp(buf, "leaf 10000 ", 11) &&
	       !strncmp(before, "off ", 4),
	       "inject: armed at address 0, a sync is not held; off reads back off");
}

/*
 * A writer in a child pid namespace: its "1" is itself, not the machine's
 * init; track lists it as 1 to itself and by its global pid to us.
 */
static void pidns_checks(void)
{
	int up[2], down[2], status;
	char buf[8192], want[64];
	pid_t outer, inner = 0;
	unsigned char bits = 0xff;

	if (pipe(up) || pipe(down))
		return;
	outer = fork();
	if (!outer) {
		/* EOF on down is the signal to go: keep no write end of it */
		close(down[1]);
		close(up[0]);
		if (unshare(CLONE_NEWPID))
			_exit(3);
		inner = fork();
		if (inner) {
			if (write(up[1], &inner, sizeof(inner)) < 0)
				_exit(3);
			waitpid(inner, &status, 0);
			_exit(0);
		}
		bits = 0;
		prctl(PR_SET_NAME, "hment-pidns");
		status = hm_write_str("track", "1");
		bits |= status && status != -EEXIST;
		hm_read("track", buf, sizeof(buf));
		bits |= !strstr(buf, "\n1 hment-pidns ") << 1;
		bits |= !!hm_write_str("track", "-1") << 2;
		if (write(up[1], &bits, 1) < 0 || read(down[0], &bits, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	if (read(up[0], &inner, sizeof(inner)) != sizeof(inner) ||
	    read(up[0], &bits, 1) != 1) {
		tap_diag("pid namespace: no child (unshare: no CLONE_NEWPID?)");
		tap_ok(false, "pid namespace: a writer in a child namespace ran");
		goto out;
	}
	tap_ok(!(bits & 1), "pid namespace: track 1 tracks the writer");
	tap_ok(!(bits & 2), "pid namespace: track lists the writer as 1 to itself");
	tap_ok(!(bits & 4), "pid namespace: track -1 untracks the writer");
	hm_read("track", buf, sizeof(buf));
	snprintf(want, sizeof(want), "\n%d hment-pidns ", inner);
	tap_ok(!strstr(buf, want) && strstr(buf, "\n1 "),
	       "pid namespace: the writer (global %d) untracked, init still tracked",
	       inner);
out:
	close(down[1]);
	waitpid(outer, &status, 0);
	close(up[0]);
}

int hostile_main(int argc, char **argv)
{
	char buf[8192], first[512], want[32];
	int pipefd[2], status, i;
	pid_t self = getpid(), zombie, untracked, nopid;
	unsigned long max_pfn, writes;
	double t0 = now();
	char *page;

	(void)argc;
	(void)argv;
	tap_init();
	/* The heap must never shrink: that would unmap indexed pages. */
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_MMAP_THRESHOLD, 1 << 30);

	max_pfn = hm_max_pfn();
	if (!tap_ok(max_pfn > 0, "stats gives max_pfn (%lu)", max_pfn))
		goto out;
	tap_ok(kpagecount_of(HM_DIR "kpagecount", max_pfn - 1) >= 0 &&
	       kpagecount_of(HM_DIR "kpagecount", max_pfn) == -1,
	       "kpagecount ends at max_pfn");
	{
		FILE *f = fopen("/proc/2/status", "r");

		buf[0] = '\0';
		if (f) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = '\0';
			fclose(f);
		}
		tap_ok(strstr(buf, "kthreadd") && is_kthread(2),
		       "pid 2 is kthreadd, a kernel thread");
	}

	/* Our own page, locked, to look up before and after each case. */
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WRITE_ONCE(page[0], 1);
	mlock(page, PAGE);
	self_pfn = pagemap_pfn(self, (unsigned long)page);

	/* A child that exits once tracked: a zombie with a dead hat. */
	if (pipe(pipefd))
		return 2;
	zombie = fork();
	if (!zombie) {
		close(pipefd[1]);
		if (read(pipefd[0], buf, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(pipefd[0]);
	i = hm_write_str("track", "all");
	tap_ok(!i, "track all: %s", errname(-i));
	i = hm_write_str("sync", "1");
	tap_ok(!i, "sync 1: %s", errname(-i));
	close(pipefd[1]);
	for (i = 0; i < 1000 && proc_state(zombie) != 'Z'; i++)
		sleep_ms(10);
	tap_ok(proc_state(zombie) == 'Z', "pid %d is a zombie", zombie);
	untracked = fork();
	if (!untracked) {
		pause();
		_exit(0);
	}
	nopid = free_pid();
	tap_ok(nopid > 0, "pid %d is free", nopid);

	snprintf(buf, sizeof(buf), "%lu", self_pfn);
	i = hm_write_str("lookup", buf);
	hm_read("lookup", buf, sizeof(buf));
	snprintf(want, sizeof(want), "%d 0x", self);
	tap_ok(self_pfn && !i && strstr(buf, want),
	       "lookup of our locked page (pfn %#lx) lists us", self_pfn);

	build_cases(max_pfn, nopid, zombie, untracked, self);
	snapshot(&base, true);
	for (i = 0; i < ncases; i++) {
		struct state after;
		const char *changed;

		run_case(&cases[i]);
		if (i + 1 < ncases && !strcmp(cases[i].file, cases[i + 1].file))
			continue;
		/* the last case of a run of one file's: the gauges too */
		snapshot(&after, true);
		changed = diff(&base, &after, true);
		if (!tap_ok(!changed, "%s: stats gauges unchanged by its bad writes",
			    cases[i].file))
			tap_diag("  %s", changed);
		if (changed)
			restore();
	}
	good_repeats(self);
	inject_idle();
	pidns_checks();

	kill(untracked, SIGKILL);
	waitpid(untracked, &status, 0);
	waitpid(zombie, &status, 0);
	hm_write_str("sync", "1");
	i = hm_verify(first, sizeof(first));
	if (!tap_ok(i == 1, "verify ok after the hostile writes"))
		tap_diag("verify: %s", i < 0 ? errname(-i) : first);
	for (i = 0, writes = 0; i < ncases; i++)
		writes += cases[i].repeat;
	printf("hostile: %d cases in %.0f s, %lu writes\n", ncases,
	       now() - t0, writes);
out:
	tap_plan();
	return tap_failed() ? 1 : 0;
}
