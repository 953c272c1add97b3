/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /sys/kernel/debug/hment/ (debugfs.c).
 */
#ifndef _HMENT_DEBUGFS_H
#define _HMENT_DEBUGFS_H

#include "hment.h"

/* debugfs.c (x86 only, see hat.h) */
#ifdef CONFIG_X86
void hment_debugfs_init(struct hment_index *idx);
void hment_debugfs_exit(void);
#else
static inline void hment_debugfs_init(struct hment_index *idx)
{
}

static inline void hment_debugfs_exit(void)
{
}
#endif

#endif /* _HMENT_DEBUGFS_H */
