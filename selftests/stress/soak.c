// SPDX-License-Identifier: GPL-2.0
/*
 * hment-stress soak [--seconds N] [--ko PATH] [--args 'P=V ...'] [--seed N]
 *
 * Everything at once, in worker processes, for N seconds (default 60):
 * two thirds plain, one third with allocation faults injected at every
 * site (fail_every=7, reserve_amount=0, from debugfs and at each load).
 *
 *  memory:  fork/exit/exec churn; anon, shmem and file mmap, mremap,
 *           munmap, mprotect, MADV_DONTNEED/MADV_FREE (churn.c); THPs
 *           split by mprotect; KSM merging and unmerging; hugetlb map and
 *           unmap; threads sharing an mm; processes SIGKILLed while a
 *           sync of them runs;
 *  hment:   continuous syncs, each followed by verify (must be ok); full
 *           reads of kpagecount; lookup of random pfns; track/untrack of
 *           live and dying pids; readers holding files open; rmmod and
 *           insmod every few seconds. While a reader holds a file the
 *           module is pinned: rmmod fails with EAGAIN (EBUSY while it is
 *           still loading or going), which is right and counted. If the
 *           readers keep it pinned, the loader quiesces them all and
 *           retries until the unload happens, waiting for reads in
 *           flight (up to READ_MAX s); refused with no hment file open
 *           anywhere is a module reference leak, and fails at once.
 *
 * Every event a phase's checks require (a sync, a kpagecount read, an
 * rmmod/insmod cycle, a process killed mid-sync, each kind of churn, and
 * in the fault phase the injected faults and steals) is made to happen:
 * a phase runs on past its length, up to EXTEND_MAX seconds, until each
 * has been seen, and says so. One still missing then is a failure.
 *
 * Then, quiescent:
 *  - recovery: injection off, one sync, and hment's kpagecount equals
 *    /proc/kpagecount for every page of a process kept through the fault
 *    phase (its pfns from /proc/PID/pagemap);
 *  - stealing: with reserve_amount 0 and every hment allocation failing, a
 *    new process's sync must steal: an mlocked process keeps all its
 *    entries, unlocked user hats lose some; then recovery
 *    again.
 */
#include "stress.h"
#include "soak.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIDSYNC_MB	8
#define EXTEND_MAX	120	/* s a phase may run on for a missing event */
#define READ_MAX	300	/* s one read or write may keep hment pinned */
#define LEAK_MAX	5	/* s refused with no file open: a leak */
#define PIN_REPORT	15	/* s quiesced before saying who pins it */
#define READ_WHY	", every reader quiesced: a read or write in flight that long"
#define LEAK_WHY	" with no file of hment open anywhere: a module reference never dropped"
#define Q_PAGES		64
#define R_PAGES		256

static const char *const counter_names[NR_COUNTERS] = {
	"procs", "execs", "threads", "mmaps", "munmaps", "mremaps",
	"mprotects", "dontneed", "free", "thp", "thp_splits", "ksm_merge",
	"ksm_unmerge", "hugetlb", "hugetlb_nomem", "midsync", "midsync_hit",
	"syncs", "sync_added", "verify_ok", "kpc_reads", "kpc_mb",
	"lookups", "lookup_lines", "tracks", "untracks", "track_esrch",
	"holds", "loads", "unloads", "rmmod_eagain", "rmmod_ebusy",
	"rmmod_quiesced", "rmmod_gaveup", "absent", "enomem", "sync_ms",
	"verify_ms", "quiesce_ms",
	"bad_sync", "bad_verify", "bad_kpc", "bad_lookup", "bad_track",
	"bad_load", "bad_worker",
};

static const char *ko_path = "/hment/hment.ko";
static char base_args[512], fault_args[600];

static void add(int c, long v)
{
	__atomic_add_fetch(&sh->c[c], v, __ATOMIC_RELAXED);
}

static void bad(int c, const char *fmt, ...)
	__printf(2, 3);

static void bad(int c, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	add(c, 1);
	if (__atomic_sub_fetch(&sh->diag_budget, 1, __ATOMIC_RELAXED) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("# soak: %s: %s\n", counter_names[c], line);
	fflush(stdout);
}

/* The file was not there: the loader is between rmmod and insmod. */
static bool absent(int rc)
{
	int e;

	if (!hm_open_failed(rc))
		return false;
	e = hm_open_errno(rc);
	if (e != ENOENT && e != ENXIO && e != EIO && e != ENODEV)
		return false;
	add(C_ABSENT, 1);
	return true;
}

/* ENOMEM is the module's right answer while faults are injected. */
static bool fault_ok(int err)
{
	if (sh->phase != 2 || err != ENOMEM)
		return false;
	add(C_ENOMEM, 1);
	return true;
}

/* Let the loader's rmmod through: open nothing new while it asks. */
static void hold_off(void)
{
	while (sh->want_unload && !sh->stop)
		sleep_ms(5);
}

static void remember(pid_t pid)
{
	unsigned long i = __atomic_fetch_add(&sh->nrecent, 1, __ATOMIC_RELAXED);

	sh->recent[i % RECENT] = pid;
}

/* ---- module load and unload ---- */

static int load(const char *args)
{
	int fd = open(ko_path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, args, 0))
		err = -errno;
	close(fd);
	return err;
}

static int unload(void)
{
	return syscall(SYS_delete_module, "hment", O_NONBLOCK) ? -errno : 0;
}

/* Fold the module's fault counters: they restart at each load. */
static void sample_stats(bool unloading)
{
	static const char *const names[NR_FSTATS + 1] = {
		"fault_injected", "alloc_fail", "steals", "stolen",
		"stale_marks", "stale_htables",
	};
	long v[NR_FSTATS + 1];
	int i;

	if (hm_stats(v, names, NR_FSTATS + 1)) {
		for (i = 0; i < NR_FSTATS; i++)
			if (v[i] > sh->fs_last[i])
				sh->fs_last[i] = v[i];
		if (v[NR_FSTATS] > sh->stale_max)
			sh->stale_max = v[NR_FSTATS];
	}
	if (!unloading)
		return;
	for (i = 0; i < NR_FSTATS; i++) {
		sh->fs_total[i] += sh->fs_last[i];
		sh->fs_last[i] = 0;
	}
	sh->gen++;
}

/* ---- workers ---- */

static void w_forker(u64 rng)
{
	int live = 0, status;
	pid_t pid;

	while (!sh->stop) {
		pid = fork();
		if (!pid) {
			u64 r = rng ^ ((u64)getpid() << 32);
			char seed[32];

			if (!rng_below(&r, 4)) {
				add(C_EXECS, 1);
				snprintf(seed, sizeof(seed), "%llu",
					 (unsigned long long)r);
				execl("/proc/self/exe", "hment-stress", "child",
				      seed, (char *)NULL);
				_exit(127);
			}
			mem_churn(&r, 4 + rng_below(&r, 20));
			_exit(0);
		}
		rng_next(&rng);
		if (pid > 0) {
			live++;
			add(C_PROCS, 1);
			remember(pid);
			/* some die in the middle of their churn */
			if (!rng_below(&rng, 8)) {
				sleep_ms(rng_below(&rng, 10));
				kill(pid, SIGKILL);
			}
		}
		while (live > 0) {
			pid = waitpid(-1, &status, live >= 4 ? 0 : WNOHANG);
			if (pid <= 0)
				break;
			live--;
			if (!(WIFEXITED(status) && !WEXITSTATUS(status)) &&
			    !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
				bad(C_BAD_WORKER, "churn child %d: status %#x",
				    pid, status);
		}
	}
	while (live-- > 0)
		wait(&status);
}

/* A short-lived thread: a few rounds, then it exits while others run. */
static void *churn_thread(void *arg)
{
	u64 r = (uintptr_t)arg;

	for (int n = 1 + rng_below(&r, 3); n > 0 && !sh->stop; n--)
		mem_churn(&r, 8);
	return NULL;
}

static void *churn_thread_long(void *arg)
{
	u64 r = (uintptr_t)arg;

	while (!sh->stop)
		mem_churn(&r, 8);
	return NULL;
}

static void w_threads(u64 rng)
{
	pthread_t t[3], extra;
	int i;

	remember(getpid());
	for (i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, churn_thread_long,
			       (void *)(uintptr_t)rng_next(&rng));
	while (!sh->stop) {
		if (!pthread_create(&extra, NULL, churn_thread,
				    (void *)(uintptr_t)rng_next(&rng))) {
			add(C_THREADS, 1);
			pthread_join(extra, NULL);
		}
		sleep_ms(rng_below(&rng, 50));
	}
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
}

static long anon_huge_kb(void)
{
	char buf[4096], *p;

	if (read_path("/proc/self/smaps_rollup", buf, sizeof(buf)) <= 0)
		return -1;
	p = strstr(buf, "AnonHugePages:");
	return p ? strtol(p + 14, NULL, 10) : -1;
}

static void w_thp(u64 rng)
{
	int status;

	while (!sh->stop) {
		char *raw = mmap(NULL, 2 * HPAGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *a;
		pid_t pid = -1;

		if (raw == MAP_FAILED) {
			sleep_ms(50);
			continue;
		}
		a = (char *)(((uintptr_t)raw + HPAGE - 1) & ~(HPAGE - 1));
		madvise(a, HPAGE, MADV_HUGEPAGE);
		touch(a, HPAGE, true);
		if (anon_huge_kb() >= 2048)
			add(C_THP, 1);
		if (!rng_below(&rng, 3)) {	/* share it, then COW it */
			pid = fork();
			if (!pid) {
				touch(a, HPAGE, true);
				_exit(0);
			}
		}
		/* a 4K piece of a PMD mapping changes: the PMD splits */
		if (!mprotect(a + rng_below(&rng, 512) * PAGE, PAGE, PROT_READ))
			add(C_THP_SPLITS, 1);
		if (rng_below(&rng, 2))
			madvise(a + rng_below(&rng, 256) * PAGE, 64 * PAGE,
				MADV_DONTNEED);
		sleep_ms(rng_below(&rng, 20));
		munmap(raw, 2 * HPAGE);
		if (pid > 0)
			waitpid(pid, &status, 0);
	}
}

static void w_ksm(u64 rng)
{
	size_t len = 128 * PAGE;
	long sharing;

	while (!sh->stop) {
		char *a = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (a == MAP_FAILED) {
			sleep_ms(50);
			continue;
		}
		/* four kinds of page, 32 of each: plenty to merge */
		for (size_t i = 0; i < len / PAGE; i++)
			memset(a + i * PAGE, 'k' + i % 4, PAGE);
		if (!madvise(a, len, MADV_MERGEABLE))
			add(C_KSM_MERGE, 1);
		sleep_ms(200 + rng_below(&rng, 600));
		sharing = read_long("/sys/kernel/mm/ksm/pages_sharing");
		if (sharing > sh->ksm_sharing_max)
			sh->ksm_sharing_max = sharing;
		if (!madvise(a, len, MADV_UNMERGEABLE))
			add(C_KSM_UNMERGE, 1);
		touch(a, len / 2, true);
		munmap(a, len);
	}
}

static void w_hugetlb(u64 rng)
{
	int status;

	while (!sh->stop) {
		size_t len = (1 + rng_below(&rng, 2)) * HPAGE;
		bool shared = rng_below(&rng, 2);
		pid_t pid = -1;
		char *a = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       (shared ? MAP_SHARED : MAP_PRIVATE) |
			       MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

		if (a == MAP_FAILED) {	/* the pool is small */
			add(C_HUGETLB_NOMEM, 1);
			sleep_ms(100);
			continue;
		}
		/* reserved at mmap, so touching cannot SIGBUS */
		for (size_t off = 0; off < len; off += HPAGE)
			a[off] = 1;
		add(C_HUGETLB, 1);
		if (shared && rng_below(&rng, 2)) {
			pid = fork();
			if (!pid) {
				(void)READ_ONCE(*a);
				sleep_ms(rng_below(&rng, 20));
				_exit(0);
			}
		}
		sleep_ms(rng_below(&rng, 100));
		munmap(a, len);
		if (pid > 0)
			waitpid(pid, &status, 0);
	}
}

struct midsync {
	pid_t pid;
	bool all;
	atomic_bool in_sync;
	int err;
};

static void *midsync_thread(void *arg)
{
	struct midsync *m = arg;
	char cmd[32];

	snprintf(cmd, sizeof(cmd), m->all ? "1" : "pid %d", m->pid);
	m->in_sync = 1;
	m->err = hm_write_str("sync", cmd);
	m->in_sync = 0;
	return NULL;
}

static void *toucher(void *arg)
{
	char *m = arg;

	for (;;)
		touch(m, MIDSYNC_MB << 20, true);
	return NULL;
}

/* A process big enough to take a while to sync, killed meanwhile. */
static void w_midsync(u64 rng)
{
	struct midsync m;
	unsigned long hits = 0;	/* this worker lives one phase */
	pthread_t t;
	int p[2], status, r;
	char c, cmd[32];

	while (!sh->stop) {
		if (pipe(p))
			return;
		m.pid = fork();
		if (!m.pid) {
			size_t len = MIDSYNC_MB << 20;
			char *a = mmap(NULL, len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			pthread_t th;

			touch(a, len, true);
			/* sometimes a whole thread group exits */
			if (rng_below(&rng, 2))
				for (int i = 0; i < 2; i++)
					pthread_create(&th, NULL, toucher, a);
			if (write(p[1], "r", 1) < 0)
				_exit(1);
			pause();
			_exit(0);
		}
		close(p[1]);
		r = read(p[0], &c, 1);
		close(p[0]);
		rng_next(&rng);
		add(C_PROCS, 1);
		remember(m.pid);
		hold_off();
		snprintf(cmd, sizeof(cmd), "%d", m.pid);
		r = hm_write_str("track", cmd);
		if (r && r != -EEXIST && !absent(r) && !fault_ok(-r))
			bad(C_BAD_TRACK, "track a live process: %s",
			    errname(-r));
		m.all = !rng_below(&rng, 3);
		m.in_sync = 0;
		m.err = 0;
		pthread_create(&t, NULL, midsync_thread, &m);
		if (hits) {
			sleep_ms(rng_below(&rng, 60));
		} else {
			/* none yet this phase: kill as the sync starts */
			for (r = 0; !m.in_sync && r < 100000; r++)
				sched_yield();
		}
		if (m.in_sync) {
			add(C_MIDSYNC_HIT, 1);
			hits++;
		}
		kill(m.pid, SIGKILL);
		pthread_join(t, NULL);
		waitpid(m.pid, &status, 0);
		add(C_MIDSYNC, 1);
		if (m.err && !absent(m.err) &&
		    !(m.err == -ESRCH && !m.all))
			bad(C_BAD_SYNC, "sync %s of a dying process: %s",
			    m.all ? "1" : "pid", errname(-m.err));
	}
}

static void w_syncer(u64 rng)
{
	static char buf[4096];
	char first[512];
	int r, v, tries;
	double t;
	char *p;

	(void)rng;
	while (!sh->stop) {
		hold_off();
		t = now();
		r = hm_write_str("sync", "1");
		if (absent(r)) {
			sleep_ms(20);
			continue;
		}
		if (r) {
			bad(C_BAD_SYNC, "sync 1: %s", errname(-r));
			continue;
		}
		add(C_SYNCS, 1);
		add(C_SYNC_MS, (now() - t) * 1000);
		t = now();
		if (hm_read("sync", buf, sizeof(buf)) > 0) {
			p = strstr(buf, "added ");
			if (p)
				add(C_SYNC_ADDED, strtol(p + 6, NULL, 10));
		}
		for (tries = 0;; tries++) {
			v = hm_verify(first, sizeof(first));
			if (v == 1) {
				add(C_VERIFY_OK, 1);
				add(C_VERIFY_MS, (now() - t) * 1000);
				break;
			}
			if (!v) {
				bad(C_BAD_VERIFY, "after sync: %s", first);
				break;
			}
			if (absent(v))
				break;
			if (!(fault_ok(-v) && tries < 50)) {
				bad(C_BAD_VERIFY, "reading it: %s",
				    errname(-v));
				break;
			}
		}
	}
}

static void w_kpc(u64 rng)
{
	static char buf[1 << 20];
	size_t want = sh->max_pfn * 8, total;
	ssize_t n;
	int fd;

	while (!sh->stop) {
		hold_off();
		fd = hm_open("kpagecount", O_RDONLY);
		if (absent(fd)) {
			sleep_ms(20);
			continue;
		}
		if (fd < 0) {
			bad(C_BAD_KPC, "open: %s", errname(hm_open_errno(fd)));
			sleep_ms(100);
			continue;
		}
		for (total = 0;; total += n) {
			n = read(fd, buf, PAGE + rng_below(&rng, sizeof(buf) - PAGE));
			if (n <= 0)
				break;
			/* a mapped pfn now and then, for the lookup worker */
			for (ssize_t o = 0; o + 8 <= n && !(total % 8); o += 8 * 97)
				if (*(u64 *)(buf + o))
					sh->hot[rng_below(&rng, 64)] =
						(total + o) / 8;
		}
		if (n < 0 && !fault_ok(errno))
			bad(C_BAD_KPC, "read at %zu: %s", total, errname(errno));
		else if (!n && total != want)
			bad(C_BAD_KPC, "read %zu bytes, want %zu", total, want);
		add(C_KPC_READS, 1);
		add(C_KPC_MB, total >> 20);
		/* a reader holding the file: rmmod must wait for it */
		if (!rng_below(&rng, 3))
			sleep_ms(rng_below(&rng, 1500));
		close(fd);
	}
}

static void w_lookup(u64 rng)
{
	static char out[1 << 20];
	char cmd[32], *line, *save;
	unsigned long pfn;
	int r;

	while (!sh->stop) {
		hold_off();
		/* half at random, half pfns that were mapped a moment ago */
		pfn = rng_below(&rng, 2) ? rng_below(&rng, sh->max_pfn) :
					   sh->hot[rng_below(&rng, 64)];
		snprintf(cmd, sizeof(cmd), rng_below(&rng, 2) ? "%lu" : "%#lx",
			 pfn);
		r = hm_write_str("lookup", cmd);
		if (absent(r))
			continue;
		if (r) {
			bad(C_BAD_LOOKUP, "write %s: %s", cmd, errname(-r));
			continue;
		}
		r = hm_read("lookup", out, sizeof(out));
		if (absent(r) || (r < 0 && fault_ok(-r)))
			continue;
		if (r < 0) {
			bad(C_BAD_LOOKUP, "read after %s: %s", cmd, errname(-r));
			continue;
		}
		add(C_LOOKUPS, 1);
		for (line = strtok_r(out, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			int pid, used = 0;
			unsigned long va, ptpfn;
			unsigned int level, entry;

			/* pid 0xVA level comm ptpfn entry name */
			if (sscanf(line, "%d 0x%lx %u %*s %lu %u %*s%n", &pid,
				   &va, &level, &ptpfn, &entry, &used) < 5 ||
			    !used || level > 4 || entry > 511)
				bad(C_BAD_LOOKUP, "pfn %s: line \"%.80s\"", cmd,
				    line);
			add(C_LOOKUP_LINES, 1);
		}
	}
}

static void w_tracker(u64 rng)
{
	char cmd[32];
	unsigned long n;
	pid_t pid;
	int r;

	while (!sh->stop) {
		hold_off();
		n = sh->nrecent;
		if (!n) {
			sleep_ms(10);
			continue;
		}
		pid = sh->recent[rng_below(&rng, n < RECENT ? n : RECENT)];
		snprintf(cmd, sizeof(cmd), "-%d", pid);
		r = hm_write_str("track", cmd);
		if (!r)
			add(C_UNTRACKS, 1);
		else if (r == -ESRCH)
			add(C_TRACK_ESRCH, 1);
		else if (!absent(r))
			bad(C_BAD_TRACK, "untrack %d: %s", pid, errname(-r));
		r = hm_write_str("track", cmd + 1);
		if (!r)
			add(C_TRACKS, 1);
		else if (r == -ESRCH)
			add(C_TRACK_ESRCH, 1);
		else if (r != -EEXIST && !absent(r) && !fault_ok(-r) &&
			 !(r == -EINVAL && is_kthread(pid)))
			bad(C_BAD_TRACK, "track %d: %s", pid, errname(-r));
		sleep_ms(rng_below(&rng, 20));
	}
}

static void w_holder(u64 rng)
{
	static const char *const files[] = {
		"stats", "kpagecount", "track", "lookup", "sync", "walk",
		"fail_every", "histogram",
	};
	char buf[4096];
	int fd;

	while (!sh->stop) {
		/*
		 * These are the readers rmmod has to wait for: they let go
		 * only when the loader has failed long enough to quiesce all.
		 */
		while (sh->want_unload == UNLOAD_ALL && !sh->stop)
			sleep_ms(5);
		fd = hm_open(files[rng_below(&rng, 8)], O_RDONLY);
		if (absent(fd)) {
			sleep_ms(50);
			continue;
		}
		if (fd >= 0) {
			if (read(fd, buf, sizeof(buf)) < 0)
				fault_ok(errno);
			sleep_ms(100 + rng_below(&rng, 1400));
			close(fd);
			add(C_HOLDS, 1);
		}
		sleep_ms(200 + rng_below(&rng, 1300));
	}
}

/* The worker a pid belongs to, for the pin report. */
static const char *worker_name(pid_t pid);

/* One task's place in the kernel: state, wchan and stack, on one line. */
static void task_report(pid_t pid, pid_t tid)
{
	char path[96], wchan[64], stack[2048], *s;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", pid, tid);
	read_text(path, wchan, sizeof(wchan));
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stack", pid, tid);
	read_text(path, stack, sizeof(stack));
	for (s = stack; *s; s++)
		if (*s == '\n')
			*s = ' ';
	printf("#   task %d %c wchan %s: %.300s\n", tid, proc_state(tid), wchan,
	       stack);
}

/*
 * The files of HM_DIR open in any process: each is a reader the module
 * is pinned for. With @report, the module's refcnt, each holder and
 * where each of its tasks is in the kernel (a read in flight shows the
 * module's function on its stack).
 */
static int open_files(bool report, double secs)
{
	char path[300], link[300], refcnt[32];
	struct dirent *p, *f;
	DIR *procs, *fds, *tasks;
	int total = 0;

	if (report) {
		read_text("/sys/module/hment/refcnt", refcnt, sizeof(refcnt));
		refcnt[strcspn(refcnt, "\n")] = '\0';
		printf("# soak: rmmod refused %.0f s after every reader was quiesced: refcnt %s\n",
		       secs, refcnt);
	}
	procs = opendir("/proc");
	while (procs && (p = readdir(procs))) {
		pid_t pid = atoi(p->d_name);
		int mine = 0;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		while (fds && (f = readdir(fds))) {
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid,
				 f->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strncmp(link, HM_DIR, strlen(HM_DIR)))
				continue;
			if (report)
				printf("# soak:   pid %d (%s) fd %s: %s\n", pid,
				       worker_name(pid), f->d_name, link);
			mine++;
		}
		if (fds)
			closedir(fds);
		total += mine;
		if (!mine || !report)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		tasks = opendir(path);
		while (tasks && (f = readdir(tasks)))
			if (atoi(f->d_name) > 0)
				task_report(pid, atoi(f->d_name));
		if (tasks)
			closedir(tasks);
	}
	if (procs)
		closedir(procs);
	if (report && !total)
		printf("# soak:   no process has a file of %s open\n", HM_DIR);
	fflush(stdout);
	return total;
}

/*
 * The loader's two limits: refused since @t0 (0: not yet) for more than
 * @limit s ends its tries, reported with the files still open (readers
 * quiesced since @tq) and @why.
 */
static bool unload_overdue(double t0, double limit, double tq,
			   const char *why)
{
	if (!t0 || now() - t0 <= limit)
		return false;
	open_files(true, now() - tq);
	bad(C_BAD_LOAD, "rmmod refused for %.0f s%s", now() - t0, why);
	return true;
}

static void w_loader(u64 rng)
{
	const char *args = sh->phase == 2 ? fault_args : base_args;
	double next, tq, tfree, tscan;
	int r, tries, pin;
	bool gone, reported;

	/* the first cycle soon, so that even a short phase has one */
	for (next = now() + 0.5; !sh->stop;
	     next = now() + 2 + rng_below(&rng, 2000) / 1000.0) {
		while (!sh->stop && now() < next)
			sleep_ms(100);
		if (sh->stop)
			break;
		/* stats walks every hash bucket: a second under TCG, so once */
		sample_stats(false);
		sh->want_unload = UNLOAD_SOFT;
		gone = false;
		reported = false;
		/* an open file pins the module: rmmod must refuse */
		pin = hm_open("stats", O_RDONLY);
		if (pin >= 0) {
			r = unload();
			if (r == -EAGAIN)
				add(C_RMMOD_EAGAIN, 1);
			else if (r == -EBUSY)
				add(C_RMMOD_EBUSY, 1);
			else
				bad(C_BAD_LOAD, "rmmod with stats open: %s",
				    r ? errname(-r) : "it unloaded");
			gone = !r;
			close(pin);
		}
		/*
		 * A second with the holder's readers still coming and going,
		 * then quiesce them too: nothing opens a file any more, and
		 * the readers in flight close theirs when their read or write
		 * returns. That may take a minute or more (one read of
		 * kpagecount or histogram visits every pfn: over 60 s on the
		 * 6.12 debug kernel under TCG), so the loader waits for them,
		 * up to READ_MAX s. Refused with no file of hment open
		 * anywhere for LEAK_MAX s is a reference that the module took
		 * and never dropped.
		 */
		for (tries = 0, tq = tfree = tscan = 0; !gone;
		     tries++) {
			if (tries == 50) {
				sh->want_unload = UNLOAD_ALL;
				add(C_RMMOD_QUIESCED, 1);
				tq = now();
			}
			if (tq && now() - tscan >= 1) {
				tscan = now();
				if (open_files(false, 0))
					tfree = 0;
				else if (!tfree)
					tfree = tscan;
			}
			if (unload_overdue(tfree, LEAK_MAX, tq, LEAK_WHY) ||
			    unload_overdue(tq, READ_MAX, tq, READ_WHY))
				break;
			if (tq && !reported && now() - tq > PIN_REPORT) {
				/* who it waits for, the first times */
				if (__atomic_fetch_add(&sh->pin_reports, 1,
						       __ATOMIC_RELAXED) < 2)
					open_files(true, now() - tq);
				reported = true;
			}
			if (sh->stop)	/* the phase is over: let it end */
				break;
			r = unload();
			if (!r) {
				gone = true;
			} else if (r == -EAGAIN) {
				add(C_RMMOD_EAGAIN, 1);
			} else if (r == -EBUSY) {
				add(C_RMMOD_EBUSY, 1);
			} else {
				bad(C_BAD_LOAD, "rmmod: %s", errname(-r));
				break;
			}
			if (!gone)
				sleep_ms(20);
		}
		if (tq && gone)
			add(C_QUIESCE_MS, (now() - tq) * 1000);
		if (!gone) {
			add(C_RMMOD_GAVEUP, 1);
			sh->want_unload = 0;
			continue;
		}
		add(C_UNLOADS, 1);
		sample_stats(true);
		sleep_ms(50 + rng_below(&rng, 250));
		for (tries = 0; (r = load(args)) && tries < 5; tries++)
			sleep_ms(200);
		if (r)
			bad(C_BAD_LOAD, "insmod %s: %s", args, errname(-r));
		else
			add(C_LOADS, 1);
		sh->want_unload = 0;
	}
}

/* A counter of /proc/vmstat: the kernel's own word on THPs. */
static long vmstat_read(const char *name)
{
	static char buf[16384];

	read_path("/proc/vmstat", buf, sizeof(buf));
	return hm_stat(buf, name);
}

static long thp_alloc0, thp_split0, thp_fallback0;
/* figures of the quiescent checks */
static long quiet_steals, quiet_stolen, exhaust_fail, exhaust_injected;

/* ---- running them ---- */

struct worker {
	const char *name;
	void (*fn)(u64 rng);
	int nice;	/* the churn yields to the workers that use hment */
	pid_t pid;
};

static struct worker workers[] = {
	{ "forker", w_forker, 10, 0 }, { "threads", w_threads, 10, 0 },
	{ "thp", w_thp, 10, 0 }, { "ksm", w_ksm, 10, 0 },
	{ "hugetlb", w_hugetlb, 10, 0 }, { "midsync", w_midsync, 0, 0 },
	{ "syncer", w_syncer, 0, 0 }, { "kpagecount", w_kpc, 0, 0 },
	{ "lookup", w_lookup, 0, 0 }, { "tracker", w_tracker, 0, 0 },
	{ "holder", w_holder, 0, 0 }, { "loader", w_loader, 0, 0 },
};

#define NWORKERS	((int)ARRAY_SIZE(workers))

static const char *worker_name(pid_t pid)
{
	static char name[64];
	char path[64], stat[512], *p;
	pid_t ppid = 0;
	int i;

	for (i = 0; i < NWORKERS; i++)
		if (workers[i].pid == pid)
			return workers[i].name;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	read_text(path, stat, sizeof(stat));
	p = strrchr(stat, ')');
	if (p)
		sscanf(p + 1, " %*c %d", &ppid);
	for (i = 0; i < NWORKERS; i++)
		if (ppid && workers[i].pid == ppid) {
			snprintf(name, sizeof(name), "a child of %s",
				 workers[i].name);
			return name;
		}
	snprintf(name, sizeof(name), "not a worker, parent %d", ppid);
	return name;
}

static int ensure_loaded(const char *args)
{
	if (hm_loaded())
		return 0;
	return load(args);
}

static unsigned long delta(const unsigned long *before, int c)
{
	return sh->c[c] - before[c];
}

/*
 * The first event that a phase's checks (report_phase(), and after the
 * fault phase the stats and THP checks) require and that has not happened
 * yet, or NULL when all have.
 */
static const char *phase_missing(const unsigned long *b, int phase)
{
	static const struct { int c; const char *name; } need[] = {
		{ C_SYNCS, "a sync" }, { C_KPC_READS, "a kpagecount read" },
		{ C_LOOKUPS, "a lookup" }, { C_LOADS, "an rmmod/insmod cycle" },
		{ C_MIDSYNC_HIT, "a process killed mid-sync" },
		{ C_PROCS, "a process" }, { C_EXECS, "an exec" },
		{ C_THREADS, "a thread" }, { C_MMAPS, "an mmap" },
		{ C_MREMAPS, "an mremap" }, { C_MPROTECTS, "an mprotect" },
		{ C_DONTNEED, "a MADV_DONTNEED" }, { C_FREE, "a MADV_FREE" },
		{ C_KSM_MERGE, "a KSM merge" }, { C_HUGETLB, "a hugetlb map" },
	};
	long *t = sh->fs_total, *l = sh->fs_last;

	for (size_t i = 0; i < ARRAY_SIZE(need); i++)
		if (!delta(b, need[i].c))
			return need[i].name;
	if (!delta(b, C_TRACKS) && !delta(b, C_UNTRACKS))
		return "a track or untrack";
	if (!delta(b, C_RMMOD_EAGAIN) && !delta(b, C_RMMOD_EBUSY))
		return "an rmmod refused";
	if (phase != 2)
		return NULL;
	/* the loader samples the module's stats at each cycle */
	if (t[FS_FAULT] + l[FS_FAULT] <= 0)
		return "an injected fault";
	if (t[FS_STEALS] + l[FS_STEALS] <= 0)
		return "a steal";
	if (sh->stale_max <= 0 && t[FS_STALE_MARKS] + l[FS_STALE_MARKS] <= 0)
		return "a stale mark";
	if (vmstat_read("thp_fault_alloc") <= thp_alloc0 && !sh->c[C_THP])
		return "a THP";
	if (vmstat_read("thp_split_pmd") <= thp_split0)
		return "a PMD split";
	return NULL;
}

static double run_phase(int phase, double seconds, u64 *rng,
			const unsigned long *before)
{
	double t0 = now(), deadline = t0 + seconds, end;
	const char *missing = NULL, *told = NULL;
	int i, status, left;

	sh->stop = 0;
	sh->want_unload = 0;
	sh->phase = phase;
	fflush(stdout);
	for (i = 0; i < NWORKERS; i++) {
		u64 seed = rng_next(rng);

		workers[i].pid = fork();
		if (!workers[i].pid) {
			if (nice(workers[i].nice) < 0)
				perror("nice");
			workers[i].fn(seed);
			fflush(stdout);
			_exit(0);
		}
	}
	for (;;) {
		end = now();
		if (end >= deadline + EXTEND_MAX)
			break;
		if (end >= deadline) {
			missing = phase_missing(before, phase);
			if (!missing)
				break;
			if (missing != told)
				printf("# soak: phase %d runs on until it sees %s\n",
				       phase, missing);
			told = missing;
		}
		sleep_ms(200);
		for (i = 0; i < NWORKERS; i++) {
			if (workers[i].pid <= 0 ||
			    waitpid(workers[i].pid, &status, WNOHANG) <= 0)
				continue;
			bad(C_BAD_WORKER, "%s ended early, status %#x",
			    workers[i].name, status);
			workers[i].pid = 0;
		}
	}
	if (end > deadline + 0.5)
		printf("# soak: phase %d ran %.0f s past its %.0f s%s%s\n",
		       phase, end - deadline, seconds,
		       missing ? ", still missing " : "", missing ? missing : "");
	fflush(stdout);
	sh->stop = 1;
	/* a sync or a verify in flight may take a while under TCG */
	for (left = NWORKERS, t0 = now(); left && now() - t0 < 180;) {
		for (left = i = 0; i < NWORKERS; i++) {
			if (workers[i].pid <= 0)
				continue;
			if (waitpid(workers[i].pid, &status, WNOHANG) <= 0) {
				left++;
				continue;
			}
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				bad(C_BAD_WORKER, "%s: status %#x",
				    workers[i].name, status);
			workers[i].pid = 0;
		}
		sleep_ms(100);
	}
	for (i = 0; i < NWORKERS; i++) {
		if (workers[i].pid <= 0)
			continue;
		bad(C_BAD_WORKER, "%s did not stop in 180 s", workers[i].name);
		kill(workers[i].pid, SIGKILL);
		waitpid(workers[i].pid, &status, 0);
	}
	i = ensure_loaded(phase == 2 ? fault_args : base_args);
	if (i)
		bad(C_BAD_LOAD, "insmod after the phase: %s", errname(-i));
	return now() - deadline + seconds;
}

static void report_phase(const char *name, const unsigned long *b,
			 double secs)
{
	tap_ok(delta(b, C_SYNCS) > 0 && !delta(b, C_BAD_SYNC) &&
	       !delta(b, C_BAD_VERIFY),
	       "%s: %lu syncs (%lu ms each), verify ok after %lu (%lu ms each), no bad answer",
	       name, delta(b, C_SYNCS),
	       delta(b, C_SYNC_MS) / (delta(b, C_SYNCS) ?: 1),
	       delta(b, C_VERIFY_OK),
	       delta(b, C_VERIFY_MS) / (delta(b, C_VERIFY_OK) ?: 1));
	tap_ok(delta(b, C_KPC_READS) > 0 && !delta(b, C_BAD_KPC),
	       "%s: %lu full reads of kpagecount, each max_pfn * 8 bytes", name,
	       delta(b, C_KPC_READS));
	tap_ok(delta(b, C_LOOKUPS) > 0 && !delta(b, C_BAD_LOOKUP),
	       "%s: %lu lookups of random pfns (%lu lines), all well formed",
	       name, delta(b, C_LOOKUPS), delta(b, C_LOOKUP_LINES));
	tap_ok(delta(b, C_TRACKS) + delta(b, C_UNTRACKS) > 0 &&
	       !delta(b, C_BAD_TRACK),
	       "%s: %lu tracks, %lu untracks, %lu ESRCH of live and dying pids",
	       name, delta(b, C_TRACKS), delta(b, C_UNTRACKS),
	       delta(b, C_TRACK_ESRCH));
	tap_ok(delta(b, C_LOADS) > 0 && delta(b, C_LOADS) == delta(b, C_UNLOADS) &&
	       !delta(b, C_BAD_LOAD),
	       "%s: %lu rmmod/insmod cycles", name, delta(b, C_LOADS));
	tap_ok(delta(b, C_RMMOD_EAGAIN) + delta(b, C_RMMOD_EBUSY) > 0,
	       "%s: rmmod refused while readers held files: %lu EAGAIN, %lu EBUSY (readers quiesced %lu times, %lu ms each until the unload, %lu gave up)",
	       name, delta(b, C_RMMOD_EAGAIN), delta(b, C_RMMOD_EBUSY),
	       delta(b, C_RMMOD_QUIESCED),
	       delta(b, C_QUIESCE_MS) / (delta(b, C_RMMOD_QUIESCED) ?: 1),
	       delta(b, C_RMMOD_GAVEUP));
	tap_ok(delta(b, C_MIDSYNC_HIT) > 0,
	       "%s: %lu processes killed during a sync of them (of %lu)",
	       name, delta(b, C_MIDSYNC_HIT), delta(b, C_MIDSYNC));
	tap_ok(delta(b, C_PROCS) && delta(b, C_EXECS) && delta(b, C_THREADS) &&
	       delta(b, C_MMAPS) && delta(b, C_MREMAPS) && delta(b, C_MPROTECTS) &&
	       delta(b, C_DONTNEED) && delta(b, C_FREE) && delta(b, C_KSM_MERGE) &&
	       delta(b, C_HUGETLB) && !delta(b, C_BAD_WORKER),
	       "%s: churn of every kind ran (%lu processes, %lu execs, %lu threads, %lu mmaps)",
	       name, delta(b, C_PROCS), delta(b, C_EXECS), delta(b, C_THREADS),
	       delta(b, C_MMAPS));
	printf("%s: %.0f s; %lu munmaps, %lu mremaps, %lu mprotects, %lu DONTNEED, %lu FREE; "
	       "THP %lu (splits %lu); KSM %lu merge/%lu unmerge; hugetlb %lu (%lu ENOMEM); "
	       "holds %lu; module absent %lu; ENOMEM %lu\n",
	       name, secs, delta(b, C_MUNMAPS), delta(b, C_MREMAPS),
	       delta(b, C_MPROTECTS), delta(b, C_DONTNEED), delta(b, C_FREE),
	       delta(b, C_THP), delta(b, C_THP_SPLITS), delta(b, C_KSM_MERGE),
	       delta(b, C_KSM_UNMERGE), delta(b, C_HUGETLB),
	       delta(b, C_HUGETLB_NOMEM), delta(b, C_HOLDS), delta(b, C_ABSENT),
	       delta(b, C_ENOMEM));
}

/* ---- quiescent checks ---- */

static void knobs(const char *nth, const char *every, const char *sites,
		  const char *reserve)
{
	hm_write_str("fail_nth", nth);
	hm_write_str("fail_every", every);
	hm_write_str("fail_sites", sites);
	hm_write_str("reserve_amount", reserve);
}

/* Do hment and /proc/kpagecount agree on @pid's pages [va, va + len)? */
static unsigned long compare_pages(pid_t pid, unsigned long va, size_t len,
				   unsigned long *checked, bool quiet)
{
	unsigned long wrong = 0;

	for (size_t off = 0; off < len; off += PAGE) {
		u64 pfn = pagemap_pfn(pid, va + off);
		s64 h, k;

		if (!pfn) {
			wrong++;
			if (!quiet)
				tap_diag("  pid %d %#lx: not present", pid,
					 va + off);
			continue;
		}
		h = kpagecount_of(HM_DIR "kpagecount", pfn);
		k = kpagecount_of("/proc/kpagecount", pfn);
		(*checked)++;
		if (h != k) {
			if (!quiet && wrong < 5)
				tap_diag("  pid %d %#lx pfn %#llx: hment %lld, kernel %lld",
					 pid, va + off, (unsigned long long)pfn,
					 (long long)h, (long long)k);
			wrong++;
		}
	}
	return wrong;
}

struct area {
	pid_t pid;
	unsigned long va;
	size_t len;
};

/*
 * After a sync, every page of @areas must count the same in both. A page
 * may move (compaction) between the sync and the look: a mismatch is
 * looked at again after one more sync, and only a second one fails.
 */
static void check_recovered(const char *what, const struct area *areas,
			    int n)
{
	unsigned long checked = 0, wrong = 0;
	int attempt, i, r;

	for (attempt = 0; attempt < 2; attempt++) {
		r = hm_write_str("sync", "1");
		checked = 0;
		wrong = 0;
		for (i = 0; i < n; i++)
			wrong += compare_pages(areas[i].pid, areas[i].va,
					       areas[i].len, &checked,
					       attempt == 0);
		if (!wrong)
			break;
	}
	tap_ok(!r && !wrong && checked,
	       "%s: after a sync, kpagecount agrees with /proc/kpagecount on all %lu pages (%s)",
	       what, checked, attempt ? "second look" : "first look");
}

static int verify_ok(const char *when)
{
	char first[512];
	int v = hm_verify(first, sizeof(first));

	if (!tap_ok(v == 1, "verify ok %s", when))
		tap_diag("verify: %s", v < 0 ? errname(-v) : first);
	return v == 1;
}

/* One hat's line of track: "pid comm htables mappings[ exited]". */
static long hat_mappings(const char *track, pid_t pid)
{
	char want[32], line[256];
	const char *p = track, *nl;
	char *sp;

	snprintf(want, sizeof(want), "%d ", pid);
	for (; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (strncmp(p, want, strlen(want)))
			continue;
		snprintf(line, sizeof(line), "%.*s",
			 (int)(nl ? nl - p : (long)strlen(p)), p);
		sp = strstr(line, " exited");
		if (sp)
			*sp = '\0';
		sp = strrchr(line, ' ');
		return sp ? strtol(sp + 1, NULL, 10) : -1;
	}
	return -1;
}

/* The sum over user hats other than @skip1 and @skip2. */
static long other_mappings(const char *track, pid_t skip1, pid_t skip2)
{
	const char *p = track, *nl;
	long sum = 0, v;
	char *end;
	int pid;

	for (; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (*p == '#')
			continue;
		pid = strtol(p, &end, 10);
		if (end == p || !pid || pid == skip1 || pid == skip2)
			continue;
		v = hat_mappings(p, pid);
		if (v > 0)
			sum += v;
	}
	return sum;
}

static void diag_steal(long collapses, long migrated, char *t0, char *t1)
{
	char *line, *save;

	tap_diag("  meanwhile: %ld THP collapses, %ld pages migrated",
		 collapses, migrated);
	for (line = strtok_r(t0, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		tap_diag("  track before: %s", line);
	for (line = strtok_r(t1, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		tap_diag("  track after:  %s", line);
}

static pid_t spawn_toucher(char *r, size_t len, bool lock, int ready)
{
	pid_t pid = fork();

	if (!pid) {
		if (lock && mlockall(MCL_CURRENT | MCL_FUTURE))
			_exit(1);
		touch(r, len, false);
		if (write(ready, "r", 1) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	return pid;
}

static void steal_check(const char *reserve, struct area *q, int nq)
{
	static char t0[16384], t1[16384];
	static const char *const names[] = { "steals", "stolen", "alloc_fail" };
	long s0[3], s1[3], p0, p1, o0, o1, d1, vm0[2], vm1[2];
	long unevictable;
	char thp[128] = "";
	size_t len = R_PAGES * PAGE;
	int p[2], r, status;
	pid_t locked, plain, late;
	char cmd[32], c;
	char *reg;
	struct area areas[8];

	/*
	 * The kernel itself must not move what is checked: no khugepaged
	 * collapse (a fully mapped 2M of the locked process's bss would
	 * be one), no compaction of mlocked pages.
	 */
	read_text("/sys/kernel/mm/transparent_hugepage/enabled", thp,
		  sizeof(thp));
	unevictable = read_long("/proc/sys/vm/compact_unevictable_allowed");
	write_file("/sys/kernel/mm/transparent_hugepage/enabled", "never");
	write_file("/proc/sys/vm/compact_unevictable_allowed", "0");
	reg = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (reg == MAP_FAILED || pipe(p)) {
		tap_ok(false, "steal check: set up");
		return;
	}
	touch(reg, len, true);
	locked = spawn_toucher(reg, len, true, p[1]);
	plain = spawn_toucher(reg, len, false, p[1]);
	if (read(p[0], &c, 1) != 1 || read(p[0], &c, 1) != 1) {
		tap_ok(false, "steal check: children ready");
		return;
	}
	knobs("0", "0", "0", reserve);
	hm_write_str("track", "all");
	r = hm_write_str("sync", "1");
	tap_ok(!r, "steal check: sync: %s", errname(-r));
	hm_read("track", t0, sizeof(t0));
	hm_stats(s0, names, 3);
	p0 = hat_mappings(t0, locked);
	o0 = other_mappings(t0, locked, 0);

	/* no reserve, no cache: a new mapping needs a stolen hment */
	vm0[0] = vmstat_read("thp_collapse_alloc");
	vm0[1] = vmstat_read("pgmigrate_success");
	knobs("0", "1", "1", "0");
	late = spawn_toucher(reg, len, false, p[1]);
	if (read(p[0], &c, 1) != 1)
		tap_ok(false, "steal check: late child ready");
	snprintf(cmd, sizeof(cmd), "%d", late);
	r = hm_write_str("track", cmd);
	snprintf(cmd, sizeof(cmd), "pid %d", late);
	r = r && r != -EEXIST ? r : hm_write_str("sync", cmd);
	hm_read("track", t1, sizeof(t1));
	hm_stats(s1, names, 3);
	knobs("0", "0", "0", reserve);
	vm1[0] = vmstat_read("thp_collapse_alloc");
	vm1[1] = vmstat_read("pgmigrate_success");
	p1 = hat_mappings(t1, locked);
	o1 = other_mappings(t1, locked, late);
	d1 = hat_mappings(t1, late);

	quiet_steals = s1[0] - s0[0];
	quiet_stolen = s1[1] - s0[1];
	tap_ok(!r && s1[1] > s0[1],
	       "steal check: reserve_amount 0, hment allocations failing: %ld steals, %ld stolen, %ld alloc_fail",
	       s1[0] - s0[0], s1[1] - s0[1], s1[2] - s0[2]);
	if (!tap_ok(p0 >= R_PAGES && p1 == p0,
		    "steal check: the mlocked process keeps its %ld mappings (now %ld)",
		    p0, p1))
		diag_steal(vm1[0] - vm0[0], vm1[1] - vm0[1], t0, t1);
	tap_ok(o1 < o0 && d1 > 0,
	       "steal check: unlocked user hats lost %ld entries, the new process got %ld",
	       o0 - o1, d1);
	verify_ok("after stealing");

	areas[0] = (struct area){ getpid(), (unsigned long)reg, len };
	areas[1] = (struct area){ locked, (unsigned long)reg, len };
	areas[2] = (struct area){ plain, (unsigned long)reg, len };
	areas[3] = (struct area){ late, (unsigned long)reg, len };
	for (int i = 0; i < nq && i < 4; i++)
		areas[4 + i] = q[i];
	check_recovered("after stealing", areas, 4 + (nq < 4 ? nq : 4));
	verify_ok("after the recovery from stealing");
	kill(locked, SIGKILL);
	kill(plain, SIGKILL);
	kill(late, SIGKILL);
	waitpid(locked, &status, 0);
	waitpid(plain, &status, 0);
	waitpid(late, &status, 0);
	munmap(reg, len);
	close(p[0]);
	close(p[1]);
	/* "always [madvise] never": the bracketed word is the setting */
	if (strchr(thp, '[')) {
		*strchr(thp, ']') = '\0';
		write_file("/sys/kernel/mm/transparent_hugepage/enabled",
			   strchr(thp, '[') + 1);
	}
	if (unevictable >= 0) {
		snprintf(thp, sizeof(thp), "%ld", unevictable);
		write_file("/proc/sys/vm/compact_unevictable_allowed", thp);
	}
}

static int reload(const char *args)
{
	int r = 0;

	for (int tries = 0; tries < 20 && hm_loaded(); tries++) {
		r = unload();
		if (r)
			sleep_ms(250);
	}
	if (hm_loaded())
		return r ? r : -EBUSY;
	return load(args);
}

/*
 * Nothing to steal: a fresh index tracking two processes only, every
 * hment allocation failing and no reserve. The first sync indexes one
 * process's pages, each mapped once, embedded in its record: no hment
 * needed. The second sync maps the shared pages a second time, which
 * needs hments, and no page is listed yet, so none can be stolen: each
 * such mapping is refused, counted in alloc_fail, and its htable marked
 * stale; the sync itself succeeds and verify stays ok. Once allocations
 * succeed again, one sync indexes them all.
 */
static void exhaustion_check(void)
{
	static const char *const names[] = {
		"alloc_fail", "fault_injected", "stale_htables", "steals",
		"stolen",
	};
	size_t len = R_PAGES * PAGE;
	char args[700], cmd[32], c;
	struct area areas[2];
	int p[2], r, r1, r2, status;
	pid_t a, b;
	long v[5] = { -1, -1, -1, -1, -1 };
	char *reg;

	/* the parent never touches it: the kernel counts only a and b */
	reg = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (reg == MAP_FAILED || pipe(p)) {
		tap_ok(false, "exhaustion: set up");
		return;
	}
	a = spawn_toucher(reg, len, false, p[1]);
	b = spawn_toucher(reg, len, false, p[1]);
	if (read(p[0], &c, 1) != 1 || read(p[0], &c, 1) != 1)
		tap_ok(false, "exhaustion: children ready");
	snprintf(args, sizeof(args),
		 "%s track_all=0 reserve_amount=0 fail_sites=1 fail_every=1",
		 base_args);
	r = reload(args);
	if (!tap_ok(!r, "exhaustion: reload with '%s': %s", args, errname(-r)))
		goto out;
	snprintf(cmd, sizeof(cmd), "%d", a);
	r1 = hm_write_str("track", cmd);
	snprintf(cmd, sizeof(cmd), "pid %d", a);
	r1 = r1 ?: hm_write_str("sync", cmd);
	snprintf(cmd, sizeof(cmd), "%d", b);
	r2 = hm_write_str("track", cmd);
	snprintf(cmd, sizeof(cmd), "pid %d", b);
	r2 = r2 ?: hm_write_str("sync", cmd);
	hm_stats(v, names, 5);
	exhaust_fail = v[0];
	exhaust_injected = v[1];
	tap_ok(!r1 && !r2 && v[0] > 0 && v[1] > 0 && v[2] > 0 && !v[4],
	       "exhaustion: syncs succeed (%s, %s) with alloc_fail %ld, fault_injected %ld, stale_htables %ld, steals %ld, stolen %ld",
	       errname(-r1), errname(-r2), v[0], v[1], v[2], v[3], v[4]);
	verify_ok("with every hment allocation failing");
	knobs("0", "0", "0", "200");
	areas[0] = (struct area){ a, (unsigned long)reg, len };
	areas[1] = (struct area){ b, (unsigned long)reg, len };
	check_recovered("exhaustion: allocations back", areas, 2);
	verify_ok("after the recovery from exhaustion");
out:
	r = reload(base_args);
	tap_ok(!r, "reload with '%s': %s", base_args, errname(-r));
	kill(a, SIGKILL);
	kill(b, SIGKILL);
	waitpid(a, &status, 0);
	waitpid(b, &status, 0);
	munmap(reg, len);
	close(p[0]);
	close(p[1]);
}

/*
 * A quiet process kept through the fault phase: private anonymous pages,
 * shmem shared with its child, a file only it maps.
 */
static pid_t make_quiet(struct area *q, pid_t *child)
{
	struct { unsigned long anon, shm, file; pid_t child; } msg;
	int p[2], fd;
	size_t len = Q_PAGES * PAGE;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (!pid) {
		char *anon = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *shm = mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		char *file;

		fd = open(SOAK_DIR "/quiet", O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || ftruncate(fd, len))
			_exit(1);
		file = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			    fd, 0);
		madvise(anon, len, MADV_NOHUGEPAGE);
		touch(anon, len, true);
		touch(shm, len, true);
		touch(file, len, true);
		msg = (typeof(msg)){ (unsigned long)anon, (unsigned long)shm,
				     (unsigned long)file, fork() };
		if (!msg.child) {
			touch(shm, len, false);
			for (;;)
				pause();
		}
		if (write(p[1], &msg, sizeof(msg)) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &msg, sizeof(msg)) != sizeof(msg))
		return -1;
	close(p[0]);
	*child = msg.child;
	q[0] = (struct area){ pid, msg.anon, len };
	q[1] = (struct area){ pid, msg.shm, len };
	q[2] = (struct area){ pid, msg.file, len };
	q[3] = (struct area){ msg.child, msg.shm, len };
	return pid;
}

int child_main(int argc, char **argv)
{
	u64 r = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;

	mem_churn(&r, 4 + rng_below(&r, 16));
	return 0;
}

int soak_main(int argc, char **argv)
{
	unsigned long before[NR_COUNTERS];
	double seconds = 60, t0 = now(), s1, s2;
	u64 rng = 0;
	char reserve[64] = "200";
	struct area q[4];
	pid_t quiet, quiet_child;
	int status, i;

	for (int a = 1; a + 1 < argc; a += 2) {
		if (!strcmp(argv[a], "--seconds"))
			seconds = strtod(argv[a + 1], NULL);
		else if (!strcmp(argv[a], "--ko"))
			ko_path = argv[a + 1];
		else if (!strcmp(argv[a], "--args"))
			snprintf(base_args, sizeof(base_args), "%s", argv[a + 1]);
		else if (!strcmp(argv[a], "--seed"))
			rng = strtoull(argv[a + 1], NULL, 0);
	}
	if (!rng)
		rng = (u64)(now() * 1e9) ^ getpid();
	/* later parameters win: the fault phase's loads inject from the start */
	snprintf(fault_args, sizeof(fault_args),
		 "%s fail_every=7 fail_sites=0 reserve_amount=0", base_args);
	tap_init();
	signal(SIGPIPE, SIG_IGN);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 2;
	sh->diag_budget = 40;
	printf("soak: seed %llu, %.0f s (2/3 plain, 1/3 fault injection), module args '%s'\n",
	       (unsigned long long)rng, seconds, base_args);

	sh->max_pfn = hm_max_pfn();
	if (!tap_ok(sh->max_pfn > 0, "soak: module loaded, max_pfn %lu",
		    sh->max_pfn))
		goto out;
	hm_read("reserve_amount", reserve, sizeof(reserve));
	reserve[strcspn(reserve, "\n")] = '\0';
	churn_files();
	if (read_long("/proc/sys/vm/nr_hugepages") <= 0)
		write_file("/proc/sys/vm/nr_hugepages", "16");
	write_file("/sys/kernel/mm/ksm/sleep_millisecs", "20");
	write_file("/sys/kernel/mm/ksm/pages_to_scan", "1000");
	write_file("/sys/kernel/mm/ksm/run", "1");
	hm_write_str("track", "all");

	thp_alloc0 = vmstat_read("thp_fault_alloc");
	thp_fallback0 = vmstat_read("thp_fault_fallback");
	thp_split0 = vmstat_read("thp_split_pmd");
	memcpy(before, sh->c, sizeof(before));
	s1 = run_phase(1, seconds * 2 / 3, &rng, before);
	report_phase("soak plain", before, s1);
	verify_ok("after the plain phase");

	quiet = make_quiet(q, &quiet_child);
	tap_ok(quiet > 0, "a quiet process to keep through the fault phase");
	hm_write_str("sync", "1");

	memcpy(before, sh->c, sizeof(before));
	knobs("0", "7", "0", "0");
	s2 = run_phase(2, seconds / 3, &rng, before);
	/* injection off first, or reading stats may fail */
	knobs("0", "0", "0", reserve);
	sample_stats(true);
	report_phase("soak fault", before, s2);
	/* alloc_fail needs nothing left to steal: exhaustion_check() has it */
	tap_ok(sh->fs_total[FS_FAULT] > 0 && sh->fs_total[FS_STEALS] > 0 &&
	       (sh->stale_max > 0 || sh->fs_total[FS_STALE_MARKS] > 0),
	       "soak fault: stats show %ld faults injected, %ld alloc_fail, %ld steals (%ld stolen), %ld stale marks, stale_htables up to %ld",
	       sh->fs_total[FS_FAULT], sh->fs_total[FS_ALLOC_FAIL],
	       sh->fs_total[FS_STEALS], sh->fs_total[FS_STOLEN],
	       sh->fs_total[FS_STALE_MARKS], sh->stale_max);

	/* over the whole soak: compaction may not find 2M in every phase */
	tap_ok((vmstat_read("thp_fault_alloc") > thp_alloc0 || sh->c[C_THP]) &&
	       vmstat_read("thp_split_pmd") > thp_split0,
	       "soak: THPs mapped (%lu seen, %ld faulted in, %ld fell back) and PMD mappings split (%ld)",
	       sh->c[C_THP], vmstat_read("thp_fault_alloc") - thp_alloc0,
	       vmstat_read("thp_fault_fallback") - thp_fallback0,
	       vmstat_read("thp_split_pmd") - thp_split0);

	/* injection is off: the index must come back whole */
	if (quiet > 0)
		check_recovered("recovery", q, 4);
	verify_ok("after the recovery");
	{
		static const char *const st[] = { "stale_htables" };
		long stale = -1;

		hm_stats(&stale, st, 1);
		tap_ok(!stale, "no stale htable left after a clean sync (%ld)",
		       stale);
	}

	steal_check(reserve, q, quiet > 0 ? 4 : 0);
	exhaustion_check();

	if (quiet > 0) {
		kill(quiet_child, SIGKILL);
		kill(quiet, SIGKILL);
		waitpid(quiet, &status, 0);
	}
	write_file("/sys/kernel/mm/ksm/run", "2");	/* unmerge all */
	for (i = 0; i < 4; i++) {
		char path[64];

		snprintf(path, sizeof(path), SOAK_DIR "/file%d", i);
		unlink(path);
	}
	unlink(SOAK_DIR "/quiet");
	rmdir(SOAK_DIR);
	hm_write_str("sync", "1");
	verify_ok("at the end of the soak");

	printf("soak figures: duration %.0f s (plain %.0f, fault %.0f, checks %.0f); "
	       "syncs %lu (verify ok after %lu); loads %lu (rmmod refused %lu EAGAIN + %lu EBUSY); "
	       "processes %lu (execs %lu, threads %lu); "
	       "mappings handled %lu (%lu mmaps, %lu index entries added by syncs); "
	       "allocation failures injected %ld (+%ld at exhaustion); alloc_fail %ld (+%ld at exhaustion); "
	       "steals %ld (stolen %ld; +%ld/%ld in the steal check); "
	       "kpagecount reads %lu (%lu MB); lookups %lu; track/untrack %lu/%lu; "
	       "killed mid-sync %lu; KSM pages_sharing max %ld\n",
	       now() - t0, s1, s2, now() - t0 - s1 - s2,
	       sh->c[C_SYNCS], sh->c[C_VERIFY_OK], sh->c[C_LOADS],
	       sh->c[C_RMMOD_EAGAIN], sh->c[C_RMMOD_EBUSY], sh->c[C_PROCS],
	       sh->c[C_EXECS], sh->c[C_THREADS],
	       sh->c[C_MMAPS] + sh->c[C_SYNC_ADDED], sh->c[C_MMAPS],
	       sh->c[C_SYNC_ADDED], sh->fs_total[FS_FAULT], exhaust_injected,
	       sh->fs_total[FS_ALLOC_FAIL], exhaust_fail, sh->fs_total[FS_STEALS],
	       sh->fs_total[FS_STOLEN], quiet_steals, quiet_stolen,
	       sh->c[C_KPC_READS], sh->c[C_KPC_MB],
	       sh->c[C_LOOKUPS], sh->c[C_TRACKS], sh->c[C_UNTRACKS],
	       sh->c[C_MIDSYNC_HIT], sh->ksm_sharing_max);
out:
	tap_plan();
	return tap_failed() ? 1 : 0;
}
