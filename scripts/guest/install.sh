# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# scripts/install-test's payload: what a user does with `make install` on
# their own machine. The host staged a clean clone's `make install
# DESTDIR=...` as /hment/stage.tar; unpack it over /, load the module the
# way a user would (depmod, modprobe), ask hment-top the usual questions,
# unload, run the uninstaller and check that no file is left behind. JSON
# and Prometheus outputs go to the host between HMENT-FILE markers, to be
# parsed there with real parsers.
# shellcheck source=scripts/guest/lib.sh
. /hment/lib.sh
kver=$(uname -r)
top=/usr/local/sbin/hment-top

snapshot() { find / -xdev | sort >"$1"; }

# shellcheck disable=SC2317 # run through step
show() {	# NAME CMD...: run, and send its output to the host
	name=$1
	shift
	"$@" >/tmp/show.out || return 1
	echo "HMENT-FILE-BEGIN $name"
	cat /tmp/show.out
	echo "HMENT-FILE-END $name"
}

# shellcheck disable=SC2317
shares_with_peers() {	# the other sleepers share busybox's pages with $1
	$top shares "$1" >/tmp/shares.out || return 1
	cat /tmp/shares.out
	for p in $sleepers; do
		[ "$p" = "$1" ] ||
			grep -q "^ *$p  *sleep  *[1-9]" /tmp/shares.out || return 1
	done
}

# shellcheck disable=SC2317
top_pfn_agrees() {	# hment-top pfn PFN: its count is /proc/kpagecount's
	pfn=$($top top -n 1 -m 0 | awk 'NR == 3 { print $1 }')
	echo "most-shared pfn: $pfn"
	# sync in the same run, no pipeline: a process started after the
	# sync (tee, say) maps busybox too, and hment learns it at the next
	$top -s pfn "$pfn" >/tmp/pfn.out || return 1
	cat /tmp/pfn.out
	grep -Eq "^pfn $pfn: ([0-9]+) mappings in [0-9]+ processes \(/proc/kpagecount: \1\)" /tmp/pfn.out
}

# shellcheck disable=SC2317
prom_atomic() {	# only the finished file is in the directory, mode 0644
	mkdir -p /tmp/textfile &&
		$top --prom /tmp/textfile/hment.prom &&
		[ "$(ls /tmp/textfile)" = hment.prom ] &&
		[ "$(stat -c %a /tmp/textfile/hment.prom)" = 644 ] &&
		$top --prom /tmp/textfile/hment.prom &&
		[ "$(ls /tmp/textfile)" = hment.prom ] &&
		show prom cat /tmp/textfile/hment.prom
}

# shellcheck disable=SC2317
nothing_left() {
	snapshot /tmp/after
	# depmod's own indexes (modules.dep...) are every system's, not ours
	diff /tmp/before /tmp/after | grep '^[-+]/' |
		grep -v "^+/lib/modules/$kver/modules\.[a-z.]*$" |
		grep -vx -e "+/lib" -e "+/lib/modules" -e "+/lib/modules/$kver" \
		>/tmp/left
	cat /tmp/left
	[ ! -s /tmp/left ] && [ ! -e /usr/local/share/doc/hment ] &&
		[ ! -e "/lib/modules/$kver/updates" ]
}

snapshot /tmp/before
step unpack tar -C / -xf /hment/stage.tar
step module-in-place test -f "/lib/modules/$kver/updates/hment.ko"
step tools-in-place test -x $top -a -x /usr/local/sbin/hment-uninstall

# Three processes sharing busybox's pages, there before the load (hment
# tracks the processes it finds at load).
sleepers=
for _ in 1 2 3; do
	sleep 1000 &
	sleepers="$sleepers $!"
done
first=${sleepers# }
first=${first%% *}
step depmod depmod -a "$kver"
step modprobe modprobe hment
step loaded grep -q '^hment ' /proc/modules
step sync $top -s top -n 3 -m 2
step pfn top_pfn_agrees
step pfn-json show pfn-json $top -s -j pfn "$pfn"
step shares shares_with_peers "$first"
step shares-json show shares-json $top -j shares "$first"
step top-pid $top top -p "$first" -n 3
step top-json show top-json $top -j top -n 5 -m 2
step top-pid-json show top-pid-json $top -j top -p "$first" -n 3
step prom prom_atomic
# shellcheck disable=SC2086
kill $sleepers
wait 2>/dev/null
step unload modprobe -r hment
step unloaded sh -c "! grep -q '^hment ' /proc/modules"
step uninstall /usr/local/sbin/hment-uninstall
step nothing-left nothing_left
exit "$nfail"
