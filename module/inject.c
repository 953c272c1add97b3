// SPDX-License-Identifier: GPL-2.0
/*
 * The walker's window-widening hook, for race tests only.
 *
 * A race between the walker and a change of the page tables (a THP zapped
 * between the read of its PMD and its recording; a shared hugetlb PMD
 * table freed between the read of the PUD that names it and the read of
 * its entries; a PTE table retracted and freed between the read of the
 * PMD that names it and its lock) lasts microseconds and is almost never
 * hit. Written to debugfs `inject`:
 *
 *   leaf MS ADDR	 hold at HMENT_INJECT_LEAF for a leaf covering ADDR (hex)
 *   table MS ADDR	 hold at HMENT_INJECT_TABLE for a PMD table covering ADDR
 *   ptes MS ADDR	 hold at HMENT_INJECT_PTES for a PTE table covering ADDR
 *   release		 let every held walker go on now
 *   off		 disarm (and release)
 *
 * A held walker waits until released, or MS milliseconds (at most
 * HMENT_INJECT_MAX_MS), or a fatal signal. Reading `inject` gives the
 * point, MS, ADDR, how many times a walker was held (`hits`) and how many
 * are held now (`waiting`): a test arms it, starts a sync, waits for
 * `hits` to move, makes its change, and releases.
 */
#include <linux/ctype.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/wait.h>

#include "inject.h"

/* A held sync keeps its hat's mmap_lock: never for long. */
#define HMENT_INJECT_MAX_MS	10000

static const char *const hment_inject_names[] = {
	[HMENT_INJECT_OFF] = "off",
	[HMENT_INJECT_LEAF] = "leaf",
	[HMENT_INJECT_TABLE] = "table",
	[HMENT_INJECT_PTES] = "ptes",
};

/* Read by every walker at every point: a plain int, written last. */
int hment_inject_at;

/* What hment_inject_at's point applies to; written under the mutex. */
static DEFINE_MUTEX(hment_inject_lock);
static unsigned long hment_inject_addr;
static unsigned int hment_inject_ms;
static atomic_long_t hment_inject_hits;
static atomic_t hment_inject_waiting;
static unsigned long hment_inject_released;	/* bumped by each release */
static DECLARE_WAIT_QUEUE_HEAD(hment_inject_wq);

/**
 * hment_inject_wait - hold the walker at an armed point
 * @point: the point reached
 * @start: first address the walk is at
 * @end: end of the range the entry covers
 *
 * Only where [@start, @end) covers the armed address: a sync passes a
 * point once per entry.
 *
 * Context: process context, no spinlock held; may sleep.
 */
void hment_inject_wait(enum hment_inject_point point, unsigned long start,
		       unsigned long end)
{
	unsigned long addr, gen;
	unsigned int ms;

	/* the point was written after what it applies to: arm's smp_wmb() */
	smp_rmb();
	addr = READ_ONCE(hment_inject_addr);
	ms = READ_ONCE(hment_inject_ms);
	if (addr < start || addr >= end)
		return;
	might_sleep();
	gen = READ_ONCE(hment_inject_released);
	atomic_inc(&hment_inject_waiting);
	/* gen and waiting before the hit: a release after it is seen */
	smp_mb__before_atomic();
	atomic_long_inc(&hment_inject_hits);
	wait_event_killable_timeout(hment_inject_wq,
				    READ_ONCE(hment_inject_released) != gen,
				    msecs_to_jiffies(ms));
	atomic_dec(&hment_inject_waiting);
}

static void hment_inject_release(void)
{
	WRITE_ONCE(hment_inject_released, hment_inject_released + 1);
	wake_up_all(&hment_inject_wq);
}

/*
 * "POINT MS ADDR", single spaces, MS decimal and ADDR hex. kstrto*, not
 * sscanf(): sscanf() wraps a number too large for its type, which would
 * take "leaf 4294967297 ADDR" for a 1 ms hold instead of refusing it.
 */
static int hment_inject_arm(char *cmd)
{
	char *name = strsep(&cmd, " "), *ms_s = strsep(&cmd, " ");
	unsigned long addr;
	unsigned int ms, p;
	int err;

	for (p = HMENT_INJECT_LEAF; p < ARRAY_SIZE(hment_inject_names); p++)
		if (!strcmp(name, hment_inject_names[p]))
			break;
	/* kstrto* take a leading '+': refuse it here */
	if (p == ARRAY_SIZE(hment_inject_names) || !ms_s || !cmd ||
	    !isdigit(*ms_s) || !isxdigit(*cmd))
		return -EINVAL;
	err = kstrtouint(ms_s, 10, &ms);
	if (!err)
		err = kstrtoul(cmd, 16, &addr);
	if (err)
		return err;
	if (!ms || ms > HMENT_INJECT_MAX_MS)
		return -ERANGE;
	WRITE_ONCE(hment_inject_at, HMENT_INJECT_OFF);
	WRITE_ONCE(hment_inject_addr, addr);
	WRITE_ONCE(hment_inject_ms, ms);
	/* pairs with hment_inject_wait()'s smp_rmb() */
	smp_wmb();
	WRITE_ONCE(hment_inject_at, p);
	return 0;
}

/**
 * hment_inject_command - a write to debugfs `inject`
 * @cmd: the command, stripped of white space; split in place
 *
 * Context: process context.
 * Return: 0, -EINVAL for a bad command, -ERANGE for a number too large
 * for its type or a delay of 0 or past HMENT_INJECT_MAX_MS.
 */
int hment_inject_command(char *cmd)
{
	int err = 0;

	mutex_lock(&hment_inject_lock);
	if (!strcmp(cmd, "off")) {
		WRITE_ONCE(hment_inject_at, HMENT_INJECT_OFF);
		hment_inject_release();
	} else if (!strcmp(cmd, "release")) {
		hment_inject_release();
	} else {
		err = hment_inject_arm(cmd);
	}
	mutex_unlock(&hment_inject_lock);
	return err;
}

/**
 * hment_inject_show - read debugfs `inject`
 * @m: where to print "POINT MS ADDR hits N waiting N"
 */
void hment_inject_show(struct seq_file *m)
{
	mutex_lock(&hment_inject_lock);
	seq_printf(m, "%s %u %#lx hits %ld waiting %d\n",
		   hment_inject_names[READ_ONCE(hment_inject_at)],
		   hment_inject_ms, hment_inject_addr,
		   atomic_long_read(&hment_inject_hits),
		   atomic_read(&hment_inject_waiting));
	mutex_unlock(&hment_inject_lock);
}
