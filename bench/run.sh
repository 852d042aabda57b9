#!/usr/bin/env bash
# The benchmarks of issue 6 (`make bench`, after the release build): bench/run.py with Debian's
# Python (python3-requests), as root. Prints each figure and writes bench/RESULTS.md.
# Environment: SF_BENCH_* (see bench/run.py) scale the counts down, e.g.
#   SF_BENCH_SCALE=300 SF_BENCH_ONLY=1,3,5 bench/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 1; }
for tool in wrk busybox perf; do
	command -v "$tool" >/dev/null || echo "bench: $tool is missing (ops/deps.sh installs wrk and busybox; without perf there are no profiles)" >&2
done
exec /usr/bin/python3 "$here/run.py" "$@"
