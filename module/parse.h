/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parsers for what users write to debugfs (parse.c).
 */
#ifndef _HMENT_PARSE_H
#define _HMENT_PARSE_H

#include <linux/types.h>

/* parse.c */
enum hment_track_op {
	HMENT_TRACK_PID,
	HMENT_UNTRACK_PID,
	HMENT_TRACK_ALL,
	HMENT_UNTRACK_ALL,
};

struct hment_track_cmd {
	enum hment_track_op op;
	pid_t pid;
};

int hment_parse_pfn(const char *s, unsigned long max_pfn, unsigned long *pfn);
int hment_parse_track(const char *s, struct hment_track_cmd *cmd);
int hment_parse_sync(const char *s, pid_t *pid);

#endif /* _HMENT_PARSE_H */
