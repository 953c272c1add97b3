# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Sourced by the guest payloads. Each step prints one HMENT-CHECK line the
# host counts; the same name goes to the kernel log first, so a splat in the
# console log can be matched to the step that caused it.
nfail=0

step() {	# step NAME CMD [ARG...]
	name=$1
	shift
	echo "hment-guest: step $name" >/dev/kmsg
	if "$@"; then
		echo "HMENT-CHECK $name ok"
	else
		echo "HMENT-CHECK $name FAIL (exit $?)"
		nfail=$((nfail + 1))
	fi
}

# kmemleak only reports an object that is older than 5 s and unreferenced in
# two scans in a row, hence the sleep and the second scan.
kmemleak_scan() {
	sleep 6
	echo scan >/sys/kernel/debug/kmemleak
	echo scan >/sys/kernel/debug/kmemleak
}

# Forget what boot itself leaked (early ACPI caches are reported on 6.1):
# only leaks from our steps should count. "clear" only forgets suspects
# already reported, so scan the way kmemleak_check does first.
kmemleak_forget() {
	kmemleak_scan
	echo clear >/sys/kernel/debug/kmemleak
}

# Objects allocated under start_kernel() cannot be ours, yet some of them
# (ACPI's early kmem_caches) turn up as suspects at random even after the
# clear above: drop those reports, print the rest.
kmemleak_check() {
	kmemleak_scan
	leaks=$(awk '
		function flush() {
			if (b ~ /start_kernel\+/) boot++
			else printf "%s", b
			b = ""
		}
		/^unreferenced object/ { flush() }
		{ b = b $0 "\n" }
		END { flush(); if (boot) print "kmemleak: ignored " boot " boot-time suspects" >"/dev/stderr" }
	' /sys/kernel/debug/kmemleak)
	[ -z "$leaks" ] && return 0
	echo "$leaks"
	return 1
}
