// SPDX-License-Identifier: GPL-2.0
/*
 * hment-stress SUITE [options]: one static binary for the guest.
 *   hostile   the table of bad writes to every writable file
 *   priv      root-only files, CAP_SYS_ADMIN for every write
 *   fuzz      random bytes into every writable file, random preads
 *   soak      everything at once, with module reloads and fault injection
 *   child     what the soak's exec'd processes run
 *   races     the walker's races with THPs, collapse and purging (races.c)
 */
#include "stress.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} suites[] = {
		{ "hostile", hostile_main }, { "priv", priv_main },
		{ "fuzz", fuzz_main }, { "soak", soak_main },
		{ "child", child_main }, { "races", races_main },
	};

	for (size_t i = 0; argc > 1 && i < ARRAY_SIZE(suites); i++)
		if (!strcmp(argv[1], suites[i].name))
			return suites[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "usage: hment-stress hostile|priv|fuzz|soak|child|races [options]\n");
	return 2;
}
