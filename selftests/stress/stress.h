/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hment-stress: the reliability and security suites of issue 4, run in the
 * test box as root. One static binary, one subcommand per suite; each
 * prints TAP. Shared here: TAP numbering (in shared memory, so forked
 * children number their lines in the same sequence), debugfs access with
 * the errno of the one syscall that failed, and small /proc helpers.
 */
#ifndef HMENT_STRESS_H
#define HMENT_STRESS_H

#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "hment-user.h"

#define HM_DIR		"/sys/kernel/debug/hment/"
#define PAGE		4096UL
#define HPAGE		(2UL << 20)
#define PM_PRESENT	BIT_ULL(63)
#define PM_PFN_MASK	((1ULL << 55) - 1)

/*
 * Open failures are told apart from write failures: a file missing while
 * the module is being reloaded is not a wrong errno of the module's.
 */
#define HM_EOPEN	4096
#define hm_open_failed(rc)	((rc) <= -HM_EOPEN)
#define hm_open_errno(rc)	(-(rc) - HM_EOPEN)

/* ---- TAP ---- */
void tap_init(void);
bool tap_ok(bool ok, const char *fmt, ...)
	__printf(2, 3);
void tap_diag(const char *fmt, ...) __printf(1, 2);
void tap_plan(void);
unsigned long tap_failed(void);

/* ---- debugfs ---- */
int hm_open(const char *name, int flags);
int hm_write(const char *name, const void *buf, size_t len);
int hm_write_str(const char *name, const char *s);
ssize_t hm_read(const char *name, char *buf, size_t size);
ssize_t hm_read_fd(int fd, char *buf, size_t size);
long hm_stat(const char *stats, const char *name);
bool hm_stats(long *out, const char *const *names, int n);
int hm_verify(char *first, size_t size);
unsigned long hm_max_pfn(void);
bool hm_loaded(void);

/* ---- /proc and the rest ---- */
u64 pagemap_pfn(pid_t pid, unsigned long va);
s64 kpagecount_of(const char *path, u64 pfn);
char proc_state(pid_t pid);
bool is_kthread(pid_t pid);
pid_t free_pid(void);
int write_file(const char *path, const char *s);
ssize_t read_path(const char *path, char *buf, size_t size);
long read_long(const char *path);
void read_text(const char *path, char *buf, size_t size);
const char *errname(int err);
double now(void);
void sleep_ms(unsigned int ms);
u64 rng_next(u64 *s);
u64 rng_below(u64 *s, u64 n);
char *xstrdupmem(const void *p, size_t len);
void escape(char *out, size_t size, const char *in, size_t len);

/* ---- suites ---- */
int hostile_main(int argc, char **argv);
int priv_main(int argc, char **argv);
int fuzz_main(int argc, char **argv);
int soak_main(int argc, char **argv);
int child_main(int argc, char **argv);
int races_main(int argc, char **argv);

/* ---- churn.c: what the soak's workers do to memory ---- */
void churn_files(void);
void mem_churn(u64 *rng, int ops);
void touch(char *p, size_t len, bool write);

#endif
