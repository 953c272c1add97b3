// SPDX-License-Identifier: GPL-2.0
/*
 * hment: a reverse map from physical page frames to the page-table
 * entries that map them, after the illumos x86 HAT.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

static int __init hment_init(void)
{
	return 0;
}

static void __exit hment_exit(void)
{
}

module_init(hment_init);
module_exit(hment_exit);

MODULE_DESCRIPTION("Reverse map from page frames to the page-table entries that map them");
MODULE_LICENSE("GPL");
