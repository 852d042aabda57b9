# shellcheck shell=bash
# Sourced by the pytest runners (run-api.sh, run-e2e.sh): turn pytest's exit status and output
# into the layer's closing line "<layer>: N passed, N failed[, N skipped]".
#
#   pytest_summary LAYER RC OUTPUT_FILE     returns 0 when nothing failed
#
# pytest -q closes with e.g. "3 passed, 1 failed, 2 skipped in 4.01s" or "no tests ran in
# 0.01s". "No tests ran" (exit 5) is a failure, so a suite that collected nothing never looks
# green; so is a non-zero exit with nothing counted as failed (a crash, an internal error).

pytest_count() { # LAST_LINE WORD
	printf '%s\n' "$1" | grep -oE "[0-9]+ $2" | grep -oE '[0-9]+' || echo 0
}

pytest_summary() {
	local layer=$1 rc=$2 out=$3 last passed failed skipped
	last=$(grep -E '(passed|failed|error|skipped|no tests ran)' "$out" | tail -1)
	passed=$(pytest_count "$last" passed)
	failed=$(($(pytest_count "$last" failed) + $(pytest_count "$last" error)))
	skipped=$(pytest_count "$last" skipped)
	if [ "$rc" -eq 5 ]; then
		echo "$layer: pytest collected no tests (exit 5): nothing was checked"
		failed=$((failed > 0 ? failed : 1))
	elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
		echo "$layer: pytest exited with status $rc"
		failed=1
	fi
	if [ "$skipped" -gt 0 ]; then
		echo "$layer: $passed passed, $failed failed, $skipped skipped"
	else
		echo "$layer: $passed passed, $failed failed"
	fi
	[ "$failed" -eq 0 ]
}
