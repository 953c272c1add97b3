/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A test-only hook (inject.c): the walker waits at a named point of its
 * walk, so that a race test can change the page tables inside a window
 * that is otherwise microseconds long. Off unless the debugfs file
 * `inject` arms it; then one load and one predictable branch per point.
 */
#ifndef _HMENT_INJECT_H
#define _HMENT_INJECT_H

#include <linux/compiler.h>
#include <linux/types.h>

struct seq_file;

/**
 * enum hment_inject_point - where the walker may be held
 * @HMENT_INJECT_OFF:	nowhere
 * @HMENT_INJECT_LEAF:	a PMD or PUD entry was read and found a 2M/1G
 *			leaf, its pass (cookie, lock, record) not begun
 * @HMENT_INJECT_TABLE:	a PUD entry was read and names a PMD table,
 *			none of whose entries was read yet
 * @HMENT_INJECT_PTES:	a PMD entry was read and names a PTE table, whose
 *			htable is found and pass begun, the table not locked
 */
enum hment_inject_point {
	HMENT_INJECT_OFF,
	HMENT_INJECT_LEAF,
	HMENT_INJECT_TABLE,
	HMENT_INJECT_PTES,
};

extern int hment_inject_at;

void hment_inject_wait(enum hment_inject_point point, unsigned long start,
		       unsigned long end);
int hment_inject_command(char *cmd);
void hment_inject_show(struct seq_file *m);

/**
 * hment_inject - hold the walker at @point if a test asked for it
 * @point: the point reached
 * @start: first address the walk is at
 * @end: end of the range the entry covers
 *
 * Context: may sleep when armed; no spinlock, no RCU read side held.
 */
static inline void hment_inject(enum hment_inject_point point,
				unsigned long start, unsigned long end)
{
	if (unlikely(READ_ONCE(hment_inject_at) == point))
		hment_inject_wait(point, start, end);
}

#endif /* _HMENT_INJECT_H */
