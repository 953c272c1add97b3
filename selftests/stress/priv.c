// SPDX-License-Identifier: GPL-2.0
/*
 * hment-stress priv: every file under /sys/kernel/debug/hment/ is for root
 * only, and every write needs CAP_SYS_ADMIN.
 *
 *  - each file is owned by root and has no group or other bits (0400 for
 *    what is only read, 0600 for the rest);
 *  - a process that dropped to uid/gid 65534 (setgroups, setgid, setuid:
 *    it keeps no capability) can open none of them, for reading or for
 *    writing, neither by absolute path (debugfs's own directory may stop
 *    it first) nor relative to the hment directory it sits in (only the
 *    file's mode can stop that): EACCES or EPERM;
 *  - descriptors root opened before the drop do not let it write: EPERM;
 *  - root without CAP_SYS_ADMIN (cleared from its effective, permitted
 *    and inheritable sets by capset) opens the files as their owner but
 *    gets EPERM on every write, even of a valid value, and changes
 *    nothing.
 */
#include "stress.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FILES	32

static char files[MAX_FILES][64];
static char inputs[MAX_FILES][64];
static int nfiles;

static bool is_knob(const char *name)
{
	return strcmp(name, "lookup") && strcmp(name, "track") &&
	       strcmp(name, "sync") && strcmp(name, "walk");
}

/*
 * A valid write for each writable file, read as root before any drop, and
 * harmless if wrongly accepted: a knob's own value, "all" to track.
 */
static void valid_input(const char *name, char *val, size_t size)
{
	if (!strcmp(name, "lookup"))
		snprintf(val, size, "0");
	else if (!strcmp(name, "track"))
		snprintf(val, size, "all");
	else if (!is_knob(name))
		snprintf(val, size, "1");
	else if (hm_read(name, val, size) <= 0)
		snprintf(val, size, "0");
}

static bool writable(const char *name)
{
	struct stat st;
	char path[128];

	snprintf(path, sizeof(path), HM_DIR "%.63s", name);
	return !stat(path, &st) && (st.st_mode & 0200);
}

static int caps(struct __user_cap_data_struct d[2], bool set)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	return syscall(set ? SYS_capset : SYS_capget, &h, d);
}

static bool open_denied(const char *path, int flags, int *err)
{
	int fd = open(path, flags | O_CLOEXEC);

	*err = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	return fd < 0 && (errno == EACCES || errno == EPERM);
}

/* In a child: drop to nobody, try everything, report in TAP. */
static void as_nobody(const int *wfd)
{
	struct __user_cap_data_struct d[2];
	static const struct { int flags; const char *name; } modes[] = {
		{ O_RDONLY, "read" }, { O_WRONLY, "write" }, { O_RDWR, "read-write" },
	};
	char path[128];
	int i, m, err, err2;

	if (chdir(HM_DIR) || setgroups(0, NULL) || setgid(65534) ||
	    setuid(65534)) {
		tap_ok(false, "drop to uid/gid 65534: %s", errname(errno));
		_exit(1);
	}
	tap_ok(!caps(d, false) && !d[0].effective && !d[0].permitted &&
	       !d[1].effective && !d[1].permitted && getuid() == 65534 &&
	       getgid() == 65534, "uid/gid 65534 and no capability left");
	for (i = 0; i < nfiles; i++) {
		snprintf(path, sizeof(path), HM_DIR "%.63s", files[i]);
		for (m = 0; m < 3; m++) {
			bool abs_ok = open_denied(path, modes[m].flags, &err);
			bool rel_ok = open_denied(files[i], modes[m].flags, &err2);

			tap_ok(abs_ok && rel_ok,
			       "uid 65534 cannot open %s for %s (%s; by its own mode: %s)",
			       files[i], modes[m].name, errname(err),
			       errname(err2));
		}
	}
	for (i = 0; i < nfiles; i++) {
		const char *in;
		ssize_t n;

		if (wfd[i] < 0)
			continue;
		in = inputs[i];
		n = write(wfd[i], in, strlen(in));
		err = n < 0 ? errno : 0;
		tap_ok(n < 0 && err == EPERM,
		       "uid 65534 writing \"%.*s\" to %s through root's descriptor: EPERM (%s)",
		       (int)strcspn(in, "\n"), in, files[i], errname(err));
	}
	fflush(stdout);
	_exit(0);
}

/* In a child: root, less CAP_SYS_ADMIN. */
static void without_sys_admin(void)
{
	struct __user_cap_data_struct d[2];
	int i, fd, err;

	prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0);
	if (caps(d, false)) {
		tap_ok(false, "capget: %s", errname(errno));
		_exit(1);
	}
	d[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	d[CAP_TO_INDEX(CAP_SYS_ADMIN)].permitted &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	d[CAP_TO_INDEX(CAP_SYS_ADMIN)].inheritable &=
		~CAP_TO_MASK(CAP_SYS_ADMIN);
	err = caps(d, true) ? errno : 0;
	caps(d, false);
	tap_ok(!err && !(d[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &
			 CAP_TO_MASK(CAP_SYS_ADMIN)) && getuid() == 0,
	       "root with CAP_SYS_ADMIN dropped (capset: %s)", errname(err));
	for (i = 0; i < nfiles; i++) {
		char before[4096], after[4096];
		const char *in;
		ssize_t n;

		if (!writable(files[i]))
			continue;
		in = inputs[i];
		hm_read(files[i], before, sizeof(before));
		fd = hm_open(files[i], O_WRONLY);
		if (fd < 0) {
			tap_ok(false, "root without CAP_SYS_ADMIN opens %s: %s",
			       files[i], errname(hm_open_errno(fd)));
			continue;
		}
		n = write(fd, in, strlen(in));
		err = n < 0 ? errno : 0;
		close(fd);
		hm_read(files[i], after, sizeof(after));
		/* a knob must keep its value */
		tap_ok(n < 0 && err == EPERM &&
		       (!is_knob(files[i]) || !strcmp(before, after)),
		       "root without CAP_SYS_ADMIN writing \"%.*s\" to %s: EPERM (%s)%s",
		       (int)strcspn(in, "\n"), in, files[i], errname(err),
		       is_knob(files[i]) ? ", value unchanged" : "");
	}
	fflush(stdout);
	_exit(0);
}

int priv_main(int argc, char **argv)
{
	int wfd[MAX_FILES], status, i;
	struct dirent *de;
	struct stat st;
	char path[128];
	DIR *dir;
	pid_t pid;

	(void)argc;
	(void)argv;
	tap_init();
	dir = opendir(HM_DIR);
	if (!tap_ok(dir, "open " HM_DIR))
		goto out;
	while ((de = readdir(dir)) && nfiles < MAX_FILES)
		if (de->d_name[0] != '.')
			snprintf(files[nfiles++], sizeof(files[0]), "%.63s",
				 de->d_name);
	closedir(dir);
	tap_ok(nfiles >= 12, "%d files in " HM_DIR, nfiles);

	for (i = 0; i < nfiles; i++) {
		unsigned int mode;
		bool ro;

		snprintf(path, sizeof(path), HM_DIR "%.63s", files[i]);
		if (stat(path, &st)) {
			tap_ok(false, "stat %s: %s", files[i], errname(errno));
			continue;
		}
		mode = st.st_mode & 07777;
		ro = !strcmp(files[i], "kpagecount") ||
		     !strcmp(files[i], "stats") ||
		     !strcmp(files[i], "histogram") ||
		     !strcmp(files[i], "verify");
		tap_ok(S_ISREG(st.st_mode) && !st.st_uid && !st.st_gid &&
		       mode == (ro ? 0400u : 0600u),
		       "%s is root's, mode %04o (want %04o)", files[i], mode,
		       ro ? 0400 : 0600);
	}

	/* Root opens the writable files first; the child inherits them. */
	for (i = 0; i < nfiles; i++) {
		wfd[i] = -1;
		if (!writable(files[i]))
			continue;
		valid_input(files[i], inputs[i], sizeof(inputs[i]));
		wfd[i] = hm_open(files[i], O_WRONLY);
	}
	fflush(stdout);
	pid = fork();
	if (!pid)
		as_nobody(wfd);
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && !WEXITSTATUS(status),
	       "the uid 65534 child finished");
	for (i = 0; i < nfiles; i++)
		if (wfd[i] >= 0)
			close(wfd[i]);

	fflush(stdout);
	pid = fork();
	if (!pid)
		without_sys_admin();
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && !WEXITSTATUS(status),
	       "the child without CAP_SYS_ADMIN finished");
out:
	tap_plan();
	return tap_failed() ? 1 : 0;
}
