// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/hment/: what the index knows, for root only.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "hment.h"

static struct dentry *hment_dir;

/* Run @fill into a page-sized buffer and show the result. */
static int hment_show_buf(struct seq_file *m,
			  void (*fill)(struct hment_index *idx,
				       struct seq_buf *s))
{
	struct seq_buf s;
	char *buf;

	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	seq_buf_init(&s, buf, PAGE_SIZE);
	fill(m->private, &s);
	seq_write(m, buf, seq_buf_used(&s));
	kfree(buf);
	return 0;
}

static int stats_show(struct seq_file *m, void *v)
{
	return hment_show_buf(m, hment_stats_print);
}
DEFINE_SHOW_ATTRIBUTE(stats);

static void hment_verify_print(struct hment_index *idx, struct seq_buf *s)
{
	struct seq_buf found;
	char *buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	unsigned long errors;

	if (!buf) {
		seq_buf_printf(s, "FAIL\nout of memory\n");
		return;
	}
	seq_buf_init(&found, buf, PAGE_SIZE);
	errors = hment_verify(idx, &found, false);
	if (errors)
		seq_buf_printf(s, "FAIL\n%lu violations\n", errors);
	else
		seq_buf_printf(s, "ok\n");
	seq_buf_printf(s, "%.*s", (int)seq_buf_used(&found), buf);
	kfree(buf);
}

static int verify_show(struct seq_file *m, void *v)
{
	return hment_show_buf(m, hment_verify_print);
}
DEFINE_SHOW_ATTRIBUTE(verify);

/**
 * hment_debugfs_init - create /sys/kernel/debug/hment/ for @idx
 * @idx: the module's index
 */
void hment_debugfs_init(struct hment_index *idx)
{
	hment_dir = debugfs_create_dir("hment", NULL);
	debugfs_create_file("stats", 0400, hment_dir, idx, &stats_fops);
	debugfs_create_file("verify", 0400, hment_dir, idx, &verify_fops);
}

/**
 * hment_debugfs_exit - remove /sys/kernel/debug/hment/
 */
void hment_debugfs_exit(void)
{
	debugfs_remove_recursive(hment_dir);
}
