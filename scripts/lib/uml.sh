# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/kunit --uml: a user-mode Linux kernel built from $KSRC and cached
# like the x86 debug kernel, and a run of it on a busybox initramfs. Sourced
# after scripts/lib/vm.sh, whose vm_* functions it reuses: the guest side is
# the same scripts/guest/ init and payload, and the same HMENT-* markers.

# Cached like the x86 debug kernel (vm_cache_claim), keyed by
# kunit/uml.kunitconfig and the kernel version.
uml_kernel() {	# sets UML_DIR, building on a miss or if VM_REBUILD=1
	local kconf=$VM_ROOT/kunit/uml.kunitconfig t0=$SECONDS
	if vm_cache_claim uml "$kconf" "$KSRC"; then
		UML_DIR=$VM_CACHED_DIR
		vm_note "UML kernel $VM_CACHED_VER: cached in $UML_DIR"
		return
	fi
	UML_DIR=$VM_CACHED_DIR
	vm_note "UML kernel $VM_CACHED_VER: building in $UML_DIR (-j2)"
	cp "$kconf" "$UML_DIR/.config"
	if ! make -C "$KSRC" O="$UML_DIR" ARCH=um olddefconfig \
		>"$UML_DIR/build.log" 2>&1; then
		tail -n 40 "$UML_DIR/build.log"
		vm_die "UML olddefconfig failed (log: $UML_DIR/build.log)"
	fi
	vm_check_config "$kconf" "$UML_DIR/.config"
	# All: the linux binary, and Module.symvers for M= builds.
	if ! make -C "$KSRC" O="$UML_DIR" ARCH=um -j2 all \
		>>"$UML_DIR/build.log" 2>&1; then
		tail -n 40 "$UML_DIR/build.log"
		vm_die "UML kernel build failed (log: $UML_DIR/build.log)"
	fi
	vm_cache_done "$kconf"
	vm_note "UML kernel built in $((SECONDS - t0))s"
}

# Boot the UML kernel like vm_boot_once boots QEMU: the console (stdout and
# the stderr console) into $VM_LOG, the second serial line, where the guest
# prints, into $VM_OUT. Sets VM_QEMU_RC (the linux binary's status) and
# VM_SECS, which vm_judge reads.
uml_boot() {	# LINUX INITRD TIMEOUT [CMDLINE...]
	local linux=$1 initrd=$2 timeout=$3 t0=$SECONDS
	shift 3
	: >"$VM_LOG"
	: >"$VM_OUT"
	mkdir -p "$VM_TMP/uml"
	# See uml-xstate.c: without it, init dies on hosts with AMX.
	if ! gcc -shared -fPIC -O2 -Wall -Werror -o "$VM_TMP/uml-xstate.so" \
		"$VM_ROOT/scripts/lib/uml-xstate.c" -ldl; then
		vm_die "cannot build scripts/lib/uml-xstate.c"
	fi
	VM_QEMU_RC=0
	LD_PRELOAD=$VM_TMP/uml-xstate.so TMPDIR=$VM_TMP timeout -k 10 "$timeout" "$linux" \
		mem="${HMENT_UML_MEM:-1G}" initrd="$initrd" uml_dir="$VM_TMP/uml" \
		con=null con0=null,fd:1 ssl=null ssl1=fd:3 \
		loglevel=7 printk.devkmsg=on panic=-1 oops=panic "$@" \
		</dev/null >"$VM_LOG" 2>&1 3>"$VM_OUT" || VM_QEMU_RC=$?
	# shellcheck disable=SC2034 # read by vm_show_guest
	VM_SECS=$((SECONDS - t0))
	sed -i 's/\r$//' "$VM_LOG" "$VM_OUT"
	if [ "$VM_QEMU_RC" = 124 ]; then
		VM_QEMU_RC="timed out after ${timeout}s"
	fi
}

# The 6.1 UML kernel's own fork path (force_flush_all() walking the VMAs
# through lib/maple_tree.c without the RCU read lock) trips lockdep's RCU
# check at init's first forks, before any hment step, once per call site.
# So vm_judge reads the console from the first guest step on
# ($VM_NAME.steps.log), and the boot part before it may hold those reports
# and no other splat.
uml_split_log() {
	local boot=$VM_LOGDIR/$VM_NAME.boot.log
	local steps=$VM_LOGDIR/$VM_NAME.steps.log n rcu other
	awk -v b="$boot" -v s="$steps" '/hment-guest: / { f = 1 }
		{ print > (f ? s : b) }' "$VM_LOG"
	touch "$boot" "$steps"
	n=$(grep -c 'WARNING: suspicious RCU usage' "$boot" || true)
	rcu=$(grep -cE 'lib/maple_tree\.c:[0-9]+ suspicious rcu_dereference_check' \
		"$boot" || true)
	other=$(grep -E "$VM_SPLAT_RE" "$boot" |
		grep -cvE 'WARNING: suspicious RCU usage|Call Trace:' || true)
	if [ "$other" -gt 0 ] || [ "$rcu" != "$n" ] ||
		[ "$(grep -c ' force_flush_all+' "$boot" || true)" -lt "$n" ]; then
		grep -nE "$VM_SPLAT_RE" "$boot" | head -n 20 | sed 's/^/    /'
		vm_fail boot-splat "a splat at boot other than UML's own RCU report ($boot)"
	elif [ "$n" -gt 0 ]; then
		vm_note "boot: $n report(s) of UML's force_flush_all RCU usage, not ours (before any step)"
	fi
	VM_LOG=$steps
}
