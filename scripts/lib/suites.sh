# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Which KUnit suites a run must report, so that one that silently stops
# running (not built, not registered, module failed to load) fails the run.
# Every "struct kunit_suite" in kunit/*_test.c is expected on x86; UML
# expects all but those in the files kunit/Kbuild builds only on x86
# ("hment_test-$(CONFIG_X86) += FILE.o" lines).

kunit_suites_of() {	# FILE...: the .name of every struct kunit_suite
	awk '/struct kunit_suite [a-z0-9_]+ *= *\{/ { s = 1 }
	     s && match($0, /\.name *= *"[^"]+"/) {
		n = substr($0, RSTART, RLENGTH); sub(/^[^"]*"/, "", n)
		sub(/"$/, "", n); print n; s = 0 }' "$@"
}

kunit_x86_only_files() {	# kunit/ sources that UML does not build
	# shellcheck disable=SC2016 # $(CONFIG_X86) is Kbuild's, not ours
	sed -n 's/^hment_test-\$(CONFIG_X86)[[:space:]]*+=//p' \
		"$VM_ROOT/kunit/Kbuild" | tr -s '[:space:]' '\n' |
		sed -n 's/\.o$/.c/p' | sed "s|^|$VM_ROOT/kunit/|"
}

kunit_expected_suites() {	# x86|uml
	local f all=() skip
	for f in "$VM_ROOT"/kunit/*_test.c; do
		all+=("$f")
	done
	if [ "$1" = uml ]; then
		skip=$(kunit_x86_only_files)
		for f in "${!all[@]}"; do
			if grep -qxF "${all[$f]}" <<<"$skip"; then
				unset 'all[f]'
			fi
		done
	fi
	[ "${#all[@]}" -eq 0 ] || kunit_suites_of "${all[@]}" | sort -u
}

# Top-level KTAP results ("ok 3 - hment_hash"), i.e. the suites that ran to
# the end, whatever their verdict; cases are indented and not matched.
kunit_suites_ran() {	# KTAP-FILE
	sed -n 's/^\(not \)\{0,1\}ok [0-9][0-9]* \(- \)\{0,1\}\([A-Za-z0-9_]*\).*$/\3/p' \
		"$1" | sort -u
}

# One failure per expected suite that did not run, one per suite that ran
# but was not expected (an x86-only suite in UML, a stale list).
kunit_check_suites() {	# x86|uml KTAP-FILE
	local expected ran s
	expected=$(kunit_expected_suites "$1")
	ran=$(kunit_suites_ran "$2")
	if [ -z "$expected" ]; then
		vm_fail suites "no suite found in kunit/*_test.c"
		return
	fi
	while read -r s; do
		[ -n "$s" ] || continue
		if ! grep -qxF "$s" <<<"$ran"; then
			vm_fail "suite-$s" "expected on $1, did not run"
		fi
	done <<<"$expected"
	while read -r s; do
		[ -n "$s" ] || continue
		if ! grep -qxF "$s" <<<"$expected"; then
			vm_fail "suite-$s" "ran on $1 but is not expected there"
		fi
	done <<<"$ran"
	echo "  suites expected on $1: $(echo "$expected" | wc -l)," \
		"ran: $(echo "$ran" | grep -c . || true)"
}

# Seconds each suite took, from the console's timestamps: its "# Subtest"
# header (indented by 4) to its top-level result line.
kunit_suite_times() {	# CONSOLE-LOG
	awk 'match($0, /^\[ *[0-9.]+\]/) {
		t = substr($0, 2, RLENGTH - 2) + 0; rest = substr($0, RLENGTH + 2)
		if (rest ~ /^    # Subtest: /) { n = rest; sub(/.*Subtest: /, "", n); start[n] = t }
		else if (rest ~ /^(not )?ok [0-9]+ /) {
			n = rest; sub(/^(not )?ok [0-9]+ (- )?/, "", n); sub(/ .*/, "", n)
			if (n in start) printf "  %-26s %7.2fs\n", n, t - start[n]
		}
	}' "$1"
}
