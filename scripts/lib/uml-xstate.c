// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD shim for the 6.1 UML kernel on hosts whose XSAVE area is
 * larger than UML's fixed fp-register buffer (2696 bytes: AVX-512; AMX
 * tiles make it 11008). UML reads and writes a process's FPU state with
 * PTRACE_{GET,SET}REGSET NT_X86_XSTATE (arch/x86/um/os-Linux/registers.c);
 * the host truncates the read, but rejects a write of anything but the
 * whole area with EFAULT, and UML then kills init ("ptrace set fp regs
 * failed, errno = 14").
 *
 * Here a short read goes through a whole-size buffer, and a short write
 * first reads the whole area, lays UML's part (the legacy area, the header
 * and the AVX-512 state) over it and writes it all back, so the state
 * beyond UML's part is left as it was. Every other request passes through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef long (*ptrace_fn)(int req, pid_t pid, void *addr, void *data);

static ptrace_fn real_ptrace;
static void *full_buf;
static size_t full_size;

/* The host's size, from a read into a buffer larger than any XSAVE area. */
static int probe(pid_t pid)
{
	struct iovec iov;

	if (full_buf)
		return 0;
	iov.iov_len = 1 << 16;
	iov.iov_base = malloc(iov.iov_len);
	if (!iov.iov_base)
		return -1;
	if (real_ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov)) {
		free(iov.iov_base);
		return -1;
	}
	full_buf = iov.iov_base;
	full_size = iov.iov_len;
	return 0;
}

static long xstate(int req, pid_t pid, struct iovec *uml)
{
	struct iovec iov;

	if (probe(pid))
		return -1;
	if (uml->iov_len >= full_size)
		return real_ptrace(req, pid, (void *)NT_X86_XSTATE, uml);
	iov.iov_base = full_buf;
	iov.iov_len = full_size;
	if (real_ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov))
		return -1;
	if (req == PTRACE_GETREGSET) {
		memcpy(uml->iov_base, full_buf, uml->iov_len);
		return 0;
	}
	memcpy(full_buf, uml->iov_base, uml->iov_len);
	iov.iov_len = full_size;
	return real_ptrace(PTRACE_SETREGSET, pid, (void *)NT_X86_XSTATE, &iov);
}

long ptrace(enum __ptrace_request req, ...)
{
	va_list ap;
	pid_t pid;
	void *addr, *data;

	va_start(ap, req);
	pid = va_arg(ap, pid_t);
	addr = va_arg(ap, void *);
	data = va_arg(ap, void *);
	va_end(ap);
	if (!real_ptrace) {
		real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
		/* never with glibc, which has ptrace() */
		if (!real_ptrace) {
			errno = ENOTSUP;
			return -1;
		}
	}
	if ((req == PTRACE_GETREGSET || req == PTRACE_SETREGSET) &&
	    (unsigned long)addr == NT_X86_XSTATE && data)
		return xstate(req, pid, data);
	return real_ptrace(req, pid, addr, data);
}
