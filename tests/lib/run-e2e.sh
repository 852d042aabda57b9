#!/usr/bin/env bash
# End-to-end layer: the pytest suite of tests/e2e, as root, against development clusters of
# network namespaces that the tests bring up and tear down themselves (ops/cluster.sh).
# Ends with "e2e: N passed, N failed[, N skipped]"; pytest's "no tests ran" (exit 5) is a
# failure, so a suite that collected nothing never looks green.
#
# Usage: tests/lib/run-e2e.sh [pytest options and/or test paths, passed after tests/e2e]
#   e.g. tests/lib/run-e2e.sh -k down -x
# Environment: SF_TEST_RUN_DIR [<repo>/run/test] holds the clusters' state files.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo" || exit 1

out=$(mktemp)
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
# pytest -q closes with e.g. "3 passed, 1 failed, 2 skipped in 4.01s" or "no tests ran in 0.01s"
last=$(grep -E '(passed|failed|error|skipped|no tests ran)' "$out" | tail -1)
rm -f "$out"
count() { printf '%s\n' "$last" | grep -oE "[0-9]+ $1" | grep -oE '[0-9]+' || echo 0; }
passed=$(count passed)
failed=$(($(count failed) + $(count errors?)))
skipped=$(count skipped)

if [ "$rc" -eq 5 ]; then
	echo "e2e: pytest collected no tests (exit 5): nothing was checked"
	failed=$((failed > 0 ? failed : 1))
elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "e2e: pytest exited with status $rc"
	failed=1
fi
if [ "$skipped" -gt 0 ]; then
	echo "e2e: $passed passed, $failed failed, $skipped skipped"
else
	echo "e2e: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
