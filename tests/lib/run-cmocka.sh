#!/usr/bin/env bash
# Run cmocka test binaries and print one summary line: "<layer>: N passed, N failed[, N skipped]".
# Usage: tests/lib/run-cmocka.sh LAYER BINARY...
# A binary that exits 77 counts as skipped (needs root or a missing tool, as OVS does).
set -u
layer=$1
shift
passed=0 failed=0 skipped=0 failed_bins=()
for bin in "$@"; do
	out=$(mktemp)
	CMOCKA_MESSAGE_OUTPUT=stdout "$bin" >"$out" 2>&1
	rc=$?
	cat "$out"
	if [ $rc -eq 77 ]; then
		skipped=$((skipped + 1))
		rm -f "$out"
		continue
	fi
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		# crashed or failed outside a test (sanitizer report, setup failure)
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -gt 0 ] && failed_bins+=("$(basename "$bin")")
	rm -f "$out"
done
[ ${#failed_bins[@]} -gt 0 ] && echo "failed in: ${failed_bins[*]}"
if [ $skipped -gt 0 ]; then
	echo "$layer: $passed passed, $failed failed, $skipped skipped"
else
	echo "$layer: $passed passed, $failed failed"
fi
[ $failed -eq 0 ]
