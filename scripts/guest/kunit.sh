# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# scripts/kunit's payload: the suites run when hment_test.ko loads and print
# KTAP to the kernel console; unloading both modules then lets hment's
# kmem_cache teardown and kmemleak report anything the tests leaked.
# shellcheck source=scripts/guest/lib.sh
. /hment/lib.sh

# HMENT_KMEMLEAK=0: the kernel has no kmemleak (UML), so no leak step.
if [ "${HMENT_KMEMLEAK:-1}" = 1 ]; then
	kmemleak_forget
fi
# shellcheck disable=SC2086 # HMENT_ARGS is a list of module parameters
step insmod insmod /hment/hment.ko $HMENT_ARGS
echo "hment-guest: KUNIT-BEGIN" >/dev/kmsg
step insmod-test insmod /hment/hment_test.ko
echo "hment-guest: KUNIT-END" >/dev/kmsg
step rmmod-test rmmod hment_test
step rmmod rmmod hment
if [ "${HMENT_KMEMLEAK:-1}" = 1 ]; then
	step kmemleak kmemleak_check
fi
exit "$nfail"
