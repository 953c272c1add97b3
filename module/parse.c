// SPDX-License-Identifier: GPL-2.0
/*
 * Parsers for what users write to debugfs. They take a NUL-terminated,
 * stripped string (see hment_write_string() in debugfs.c) and either fill
 * in a command or return an errno; nothing is acted on here, so a bad
 * write changes nothing.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "parse.h"

/**
 * hment_parse_pfn - a pfn for lookup
 * @s: decimal or 0x-hex
 * @max_pfn: pfns must be below this
 * @pfn: set on success
 *
 * Return: 0, -EINVAL for anything that is not a number (a sign included),
 * -ERANGE for a number beyond @max_pfn or beyond an unsigned long.
 */
int hment_parse_pfn(const char *s, unsigned long max_pfn, unsigned long *pfn)
{
	unsigned long val;
	int err;

	if (*s == '-' || *s == '+')
		return -EINVAL;
	err = kstrtoul(s, 0, &val);
	if (err)
		return err;
	if (val >= max_pfn)
		return -ERANGE;
	*pfn = val;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hment_parse_pfn);

/* A pid: a positive decimal int, no sign. */
static int hment_parse_pid(const char *s, pid_t *pid)
{
	int val, err;

	if (*s == '-' || *s == '+')
		return -EINVAL;
	err = kstrtoint(s, 10, &val);
	if (err)
		return err;
	if (val <= 0)
		return -EINVAL;
	*pid = val;
	return 0;
}

/**
 * hment_parse_track - a command for the track file
 * @s: "all", "-all", "<pid>" or "-<pid>"
 * @cmd: set on success
 *
 * Return: 0, -EINVAL for anything else (pid 0, signs other than one
 * leading '-', trailing garbage), -ERANGE for a pid beyond an int.
 */
int hment_parse_track(const char *s, struct hment_track_cmd *cmd)
{
	static const struct {
		const char *word;
		enum hment_track_op op;
	} words[] = {
		{ "all", HMENT_TRACK_ALL },
		{ "-all", HMENT_UNTRACK_ALL },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(words); i++) {
		if (!strcmp(s, words[i].word)) {
			cmd->op = words[i].op;
			cmd->pid = 0;
			return 0;
		}
	}
	if (*s == '-') {
		cmd->op = HMENT_UNTRACK_PID;
		return hment_parse_pid(s + 1, &cmd->pid);
	}
	cmd->op = HMENT_TRACK_PID;
	return hment_parse_pid(s, &cmd->pid);
}
EXPORT_SYMBOL_IF_KUNIT(hment_parse_track);

/**
 * hment_parse_sync - a command for the sync and walk files
 * @s: "1" for every tracked process, "pid <n>" for one
 * @pid: set to 0 for all, else the pid
 *
 * Return: 0, or -EINVAL / -ERANGE as hment_parse_track().
 */
int hment_parse_sync(const char *s, pid_t *pid)
{
	if (!strcmp(s, "1")) {
		*pid = 0;
		return 0;
	}
	if (strncmp(s, "pid ", 4))
		return -EINVAL;
	return hment_parse_pid(s + 4, pid);
}
EXPORT_SYMBOL_IF_KUNIT(hment_parse_sync);
