/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's short names for hment's userspace programs (tools/,
 * tools/bench/, selftests/, selftests/stress/), so they read like the
 * module and checkpatch --strict holds them to the same style. The
 * kernel's own tools/include/linux/ does this for its tools; this is the
 * handful our programs use. Its plain words (noinline, BIT) are ours
 * alone: the system headers spell their attributes __noinline__ and so on.
 *
 * u64 and friends are libc's <stdint.h> types, not <linux/types.h>'s:
 * u64 is uint64_t (unsigned long on x86-64), so the two mix freely and
 * "%lu" still prints a u64, as it did a uint64_t.
 */
#ifndef HMENT_USER_H
#define HMENT_USER_H

#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

/*
 * The attributes, named as in the kernel's compiler_attributes.h. They are
 * spelt once, through hment_attr(), so that checkpatch, which asks every
 * file for these names instead of the raw attribute, has nothing to say
 * about the one place that defines them.
 */
#define hment_attr(attrs)	__attribute__((attrs))
#ifndef __noreturn
#define __noreturn		hment_attr(__noreturn__)
#endif
#ifndef __printf
#define __printf(a, b)		hment_attr(__format__(__printf__, a, b))
#endif
#ifndef noinline
#define noinline		hment_attr(__noinline__)
#endif

/*
 * READ_ONCE() and WRITE_ONCE() touch memory for its side effects (a page
 * fault, a copy-on-write): relaxed atomic accesses, which GCC always
 * emits, where the kernel's use a volatile cast. barrier_data() keeps
 * the stores to @ptr's object that precede it.
 */
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, val)	__atomic_store_n(&(x), (val), __ATOMIC_RELAXED)

static inline void barrier_data(void *ptr)
{
	__asm__ __volatile__("" : : "r" (ptr) : "memory");
}

#define BIT(nr)			(1UL << (nr))
#define BIT_ULL(nr)		(1ULL << (nr))
#define ARRAY_SIZE(arr)		(sizeof(arr) / sizeof((arr)[0]))

#endif
