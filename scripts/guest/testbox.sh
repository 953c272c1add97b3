# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# scripts/testbox's payload: load hment.ko, then run the caller's script
# (HMENT_RUN) or the default smoke checks, then unload. The exit status is
# the caller's script's if it failed, else the number of failed steps.
# shellcheck source=scripts/guest/lib.sh
. /hment/lib.sh

# shellcheck disable=SC2317 # run through step
verify() {
	cat /sys/kernel/debug/hment/verify &&
		[ "$(head -n 1 /sys/kernel/debug/hment/verify)" = ok ]
}

echo "paging: $(grep -qw la57 /proc/cpuinfo && echo 5 || echo 4)-level"
# shellcheck disable=SC2317 # run through step
gig_reserved() {
	# hugetlb_cma=1G (debug kernels): the page is taken from CMA now.
	if [ "$HMENT_1G" = cma ]; then
		echo 1 >/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
	fi
	n=$(cat /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages) &&
		echo "1G hugetlb pages: $n" && [ "$n" -ge 1 ]
}
[ -n "${HMENT_1G:-}" ] && step hugepage-1g gig_reserved
# Only the debug kernel has kmemleak; there, leaks fail the run too.
leaks=
if [ -e /sys/kernel/debug/kmemleak ]; then
	leaks=1
	kmemleak_forget
fi
# shellcheck disable=SC2086 # HMENT_ARGS is a list of module parameters
step insmod insmod /hment/hment.ko $HMENT_ARGS
rc=0
if [ -n "$HMENT_RUN" ]; then
	echo "hment-guest: step run $HMENT_RUN" >/dev/kmsg
	"/hment/$HMENT_RUN"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "HMENT-CHECK run ok"
	else
		echo "HMENT-CHECK run FAIL (exit $rc)"
	fi
else
	step stats cat /sys/kernel/debug/hment/stats
	step verify verify
fi
step rmmod rmmod hment
[ -n "$leaks" ] && step kmemleak kmemleak_check
[ "$rc" -ne 0 ] && exit "$rc"
exit "$nfail"
