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
# shellcheck source=tests/lib/pytest-summary.sh
. "$here/pytest-summary.sh"
cd "$repo" || exit 1

out=$(mktemp)
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
pytest_summary e2e "$rc" "$out"
status=$?
rm -f "$out"
exit $status
