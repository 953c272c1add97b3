# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared by scripts/testbox and scripts/kunit: build the module for a kernel,
# pack it into a busybox initramfs, boot that in QEMU and judge the logs.
# Sourced, not run; the caller has set -euo pipefail and called vm_init.
#
# A VM writes two files: $VM_LOG, the kernel console (ttyS0), and $VM_OUT,
# what the guest's userspace printed (ttyS1), with HMENT-BOOT, HMENT-CHECK
# and HMENT-EXIT lines that scripts/guest/ prints for the host to read.

VM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM_GUEST=$VM_ROOT/scripts/guest
VM_LOGDIR=$VM_ROOT/build/logs
VM_CACHE=${HMENT_CACHE:-/var/cache/hment}

# Kernel splats (see the contract). Case matters: "kasan: ..." and
# "KernelAddressSanitizer initialized" are normal boot lines.
VM_SPLAT_RE='WARNING:|BUG:|possible circular|INFO: |KASAN:|UBSAN:|unreferenced object|Call Trace:|objects remaining|Oops|general protection fault|Kernel panic'

vm_note() { echo "$VM_NAME: $*"; }

vm_die() {	# WHY: give up, still ending with the result line
	echo "$VM_NAME: $*" >&2
	VM_FAIL=$((${VM_FAIL:-0} + 1))
	echo "$VM_NAME: ${VM_PASS:-0} passed, $VM_FAIL failed"
	exit 1
}

vm_init() {	# NAME: names the logs and the result line
	VM_NAME=$1
	VM_PASS=0
	VM_FAIL=0
	VM_COUNT_PASSES=1	# scripts/kunit counts KUnit cases instead
	VM_LOG=$VM_LOGDIR/$1.log
	VM_OUT=$VM_LOGDIR/$1.out
	VM_TMP=$(mktemp -d "/tmp/hment-$1.XXXXXX")
	trap 'rm -rf "$VM_TMP"' EXIT
	# A missing file, or one from before the RT kernels and 6.12's source.
	if [ ! -r /var/lib/hment/kernels ] ||
		! grep -q '^KSRC612=' /var/lib/hment/kernels; then
		"$VM_ROOT/scripts/setup"
	fi
	# shellcheck source=/dev/null
	. /var/lib/hment/kernels
	mkdir -p "$VM_LOGDIR"
}

vm_pass() {	# NAME
	echo "  ok   $1"
	if [ "$VM_COUNT_PASSES" = 1 ]; then
		VM_PASS=$((VM_PASS + 1))
	fi
}

vm_fail() {	# NAME WHY
	echo "  FAIL $1: $2"
	VM_FAIL=$((VM_FAIL + 1))
}

vm_result() {	# the contract's closing line; false if anything failed
	echo "$VM_NAME: $VM_PASS passed, $VM_FAIL failed"
	[ "$VM_FAIL" -eq 0 ]
}

# The debug kernels live outside the repo, keyed by their config file and
# the kernel source version, and are marked complete only once their .config
# is checked, so an interrupted build resumes instead of being reused.
# 6.1: kunit/.kunitconfig, linux-source-6.1 -> kunit-<key>;
# 6.12: kunit/debug-6.12.config, linux-source-6.12 -> debug-6.12-<key>.
# VM_DEBUG_CMDLINE: what the kernel's command line must add. The 6.1 config
# leaves the preemption model at its default (none), but the kernel is built
# preemptible (PREEMPT_DYNAMIC, PREEMPT_RCU): preempt=full makes it fully
# preemptible at boot, as 6.12's PREEMPT=y is, without a rebuild.
vm_debug_kernel() {	# [6.1|6.12]: sets VM_DEBUG_DIR, VM_DEBUG_SRC and
			# VM_DEBUG_CMDLINE, building on a miss or if VM_REBUILD=1
	local series=${1:-6.1} kconf src dir t0=$SECONDS
	case $series in
	6.1) kconf=$VM_ROOT/kunit/.kunitconfig src=$KSRC dir=kunit
		VM_DEBUG_CMDLINE=preempt=full ;;
	6.12) kconf=$VM_ROOT/kunit/debug-6.12.config src=$KSRC612 dir=debug-6.12
		VM_DEBUG_CMDLINE= ;;
	*) vm_die "no debug kernel for '$series'" ;;
	esac
	VM_DEBUG_SRC=$src
	if vm_cache_claim "$dir" "$kconf" "$src"; then
		VM_DEBUG_DIR=$VM_CACHED_DIR
		vm_note "debug kernel $VM_CACHED_VER: cached in $VM_DEBUG_DIR"
		return
	fi
	VM_DEBUG_DIR=$VM_CACHED_DIR
	vm_note "debug kernel $VM_CACHED_VER: building in $VM_DEBUG_DIR (8-15 min on 2 cores)"
	# kunit.py must not leave __pycache__ in the source tree either.
	if ! PYTHONDONTWRITEBYTECODE=1 python3 "$src/tools/testing/kunit/kunit.py" \
		build --arch=x86_64 --kunitconfig="$kconf" \
		--build_dir="$VM_DEBUG_DIR" >"$VM_DEBUG_DIR/build.log" 2>&1; then
		tail -n 40 "$VM_DEBUG_DIR/build.log"
		vm_die "debug kernel build failed (log: $VM_DEBUG_DIR/build.log)"
	fi
	vm_cache_done "$kconf"
	vm_note "debug kernel built in $((SECONDS - t0))s"
}

# A kernel built with O= into $VM_CACHE/PREFIX-<key>, keyed by its config
# and its source's version, and marked complete only once its .config is
# checked and the build finished; a flock keeps two builders of one key
# apart. Sets VM_CACHED_DIR and VM_CACHED_VER. True if the cached build is
# complete. False with the lock held and an empty VM_CACHED_DIR to build
# in, for vm_cache_done to mark and release.
vm_cache_claim() {	# PREFIX KCONFIG SRC
	local prefix=$1 kconf=$2 src=$3 key
	[ -e "$src/Makefile" ] || vm_die "$src is missing: run scripts/setup"
	VM_CACHED_VER=$(sed -n 's/^\(VERSION\|PATCHLEVEL\|SUBLEVEL\) = //p' \
		"$src/Makefile" | paste -sd.)
	key=$({ cat "$kconf"; echo "$VM_CACHED_VER"; } | sha256sum | cut -c1-12)
	VM_CACHED_DIR=$VM_CACHE/$prefix-$key
	mkdir -p "$VM_CACHE"
	exec {VM_CACHE_LOCK}>"$VM_CACHE/.lock-$prefix-$key"
	flock "$VM_CACHE_LOCK"
	if [ "${VM_REBUILD:-0}" = 1 ]; then
		rm -rf "$VM_CACHED_DIR"
	fi
	if [ -e "$VM_CACHED_DIR/.hment-complete" ]; then
		exec {VM_CACHE_LOCK}>&-
		return 0
	fi
	# O= builds need a source tree in mrproper state.
	if [ -e "$src/.config" ] || [ -d "$src/include/config" ]; then
		vm_die "$src is not clean: run 'make -C $src mrproper'"
	fi
	mkdir -p "$VM_CACHED_DIR"
	return 1
}

vm_cache_done() {	# KCONFIG: after a build vm_cache_claim allowed
	vm_check_config "$1" "$VM_CACHED_DIR/.config"
	touch "$VM_CACHED_DIR/.hment-complete"
	exec {VM_CACHE_LOCK}>&-
}

vm_check_config() {	# KUNITCONFIG DOTCONFIG: every =y line must be in .config
	local opt missing=()
	while read -r opt; do
		grep -qx "$opt" "$2" || missing+=("$opt")
	done < <(grep -E '^CONFIG_[A-Z0-9_]+=y$' "$1")
	while read -r opt; do
		! grep -qx "$opt=y" "$2" || missing+=("# $opt is not set")
	done < <(sed -n 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1/p' "$1")
	if [ "${#missing[@]}" -gt 0 ]; then
		printf '  missing: %s\n' "${missing[@]}" >&2
		vm_die "$2 lacks options that $1 asks for"
	fi
}

vm_sources() {	# the tree's source files, NUL-separated, never build products
	local f
	if git -C "$VM_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
		# Tracked or new, less any deleted.
		git -C "$VM_ROOT" ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do
				[ ! -e "$VM_ROOT/$f" ] || printf '%s\0' "$f"
			done
	else
		(cd "$VM_ROOT" && find . -path ./build -prune -o -type f \
			! -name '*.o' ! -name '*.ko' ! -name '*.cmd' ! -name '*.mod' \
			! -name '*.mod.c' ! -name '*.order' ! -name '*.symvers' -print0)
	fi
}

# Build in a private copy of the sources, so builds for different kernels,
# or a build while another VM runs, never overwrite each other's objects.
vm_build_module() {	# KDIR OBJDIR [MAKE-VAR...]
	local kdir=$1 obj=$2
	shift 2
	rm -rf "$obj"
	mkdir -p "$obj"
	vm_sources | tar -C "$VM_ROOT" --null -T - -cf - | tar -C "$obj" -xf -
	if ! make -C "$obj" KDIR="$kdir" "$@" >"$obj.make.log" 2>&1; then
		cat "$obj.make.log"
		vm_die "module build against $kdir failed"
	fi
	grep -E 'warning:|error:' "$obj.make.log" || true
}

# The guest runs scripts/guest/init, which sources /hment/env and runs
# PAYLOAD as /hment/payload.sh; FILEs (files or directories) land in /hment.
vm_initramfs() {	# OUT PAYLOAD ENV-TEXT [FILE...]
	local out=$1 payload=$2 env=$3 root=$VM_TMP/root
	shift 3
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,hment}
	cp /bin/busybox "$root/bin/busybox"
	install -m 755 "$VM_GUEST/init" "$root/init"
	cp "$VM_GUEST/lib.sh" "$root/hment/lib.sh"
	cp "$payload" "$root/hment/payload.sh"
	printf '%s\n' "$env" >"$root/hment/env"
	# The kernel opens /dev/console before init can mount devtmpfs.
	mknod "$root/dev/console" c 5 1
	if [ "$#" -gt 0 ]; then
		cp -r "$@" "$root/hment/"
	fi
	# Uncompressed: unpacking gzip under TCG costs more than reading it.
	(cd "$root" && find . | cpio -o -H newc --quiet) >"$out"
}

# A guest that dies before its init runs never saw hment: under TCG that
# happens now and then (seen once: an int3 oops in sched_clock_cpu during
# boot). Boot such a guest once more rather than fail the run; anything
# after init started counts as it is.
vm_boot() {	# KERNEL INITRD TIMEOUT [CMDLINE...]: sets VM_QEMU_RC, VM_SECS
	vm_boot_once "$@"
	if ! grep -q '^HMENT-BOOT ' "$VM_OUT"; then
		vm_note "the guest died before init (QEMU: $VM_QEMU_RC); booting again"
		cp "$VM_LOG" "$VM_LOG.first-boot"
		vm_boot_once "$@"
	fi
}

vm_boot_once() {
	local kernel=$1 initrd=$2 timeout=$3 t0=$SECONDS
	shift 3
	: >"$VM_LOG"
	: >"$VM_OUT"
	VM_QEMU_RC=0
	timeout -k 10 "$timeout" qemu-system-x86_64 \
		-accel tcg -cpu max -smp 2 -m "${HMENT_VM_MEM:-2G}" \
		-nodefaults -nographic -no-reboot -monitor none \
		-bios /usr/share/qemu/qboot.rom \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 loglevel=7 printk.devkmsg=on panic=-1 oops=panic $*" \
		-serial "file:$VM_LOG" -serial "file:$VM_OUT" </dev/null ||
		VM_QEMU_RC=$?
	VM_SECS=$((SECONDS - t0))
	sed -i 's/\r$//' "$VM_LOG" "$VM_OUT"
	if [ "$VM_QEMU_RC" = 124 ]; then
		VM_QEMU_RC="timed out after ${timeout}s"
	fi
}

# Turn the two logs into checks: QEMU ended by itself, the guest booted,
# each guest step, the exit marker, no splat. Sets VM_EXIT to the guest
# payload's exit status, or empty if it never finished.
vm_judge() {
	local name res why n
	if [ "$VM_QEMU_RC" != 0 ]; then
		vm_fail qemu "$VM_QEMU_RC"
	fi
	if grep -q '^HMENT-BOOT ' "$VM_OUT"; then
		vm_pass boot
	else
		vm_fail boot "guest init never ran (console: $VM_LOG)"
	fi
	while read -r _ name res why; do
		if [ "$res" = ok ]; then
			vm_pass "$name"
		else
			vm_fail "$name" "$why"
		fi
	done < <(grep '^HMENT-CHECK ' "$VM_OUT")
	VM_EXIT=$(sed -n 's/^HMENT-EXIT=\([0-9]*\)$/\1/p' "$VM_OUT" | tail -n 1)
	if [ -z "$VM_EXIT" ]; then
		vm_fail finish "no HMENT-EXIT line: the guest died or hung"
	fi
	n=$(grep -cE "$VM_SPLAT_RE" "$VM_LOG" || true)
	if [ "$n" -eq 0 ]; then
		vm_pass no-splat
	else
		grep -nE "$VM_SPLAT_RE" "$VM_LOG" | head -n 20 | sed 's/^/    /'
		vm_fail no-splat "$n splat lines in $VM_LOG"
	fi
}

vm_show_guest() {	# print what the guest printed, less the markers
	echo "--- guest output ($VM_OUT)"
	grep -v '^HMENT-\(BOOT\|CHECK\|EXIT=\)' "$VM_OUT" || true
	echo "--- $(sed -n 's/^HMENT-BOOT //p' "$VM_OUT" | head -n 1)," \
		"QEMU ran ${VM_SECS}s"
}
