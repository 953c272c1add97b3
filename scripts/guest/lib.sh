# SPDX-License-Identifier: GPL-2.0
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

# Forget what boot itself leaked: only leaks from our steps should count.
kmemleak_forget() {
	[ -e /sys/kernel/debug/kmemleak ] || return 0
	echo scan >/sys/kernel/debug/kmemleak
	echo clear >/sys/kernel/debug/kmemleak
}

kmemleak_check() {
	kmemleak_scan
	leaks=$(cat /sys/kernel/debug/kmemleak)
	[ -z "$leaks" ] && return 0
	echo "$leaks"
	return 1
}
