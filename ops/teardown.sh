#!/usr/bin/env bash
# Tear down what `make run` (ops/run.sh) left behind after a crash: the daemons it recorded by
# pid, the development cluster and the local Redis/RabbitMQ. Safe to run when nothing is left.
#   ops/teardown.sh [--quiet]     (SF_CLUSTER_PREFIX, SF_RUN_DIR as for ops/run.sh)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
export SF_RUN_DIR=${SF_RUN_DIR:-$repo/run}
PREFIX=${SF_CLUSTER_PREFIX:-sfdev}
PIDS_FILE=$SF_RUN_DIR/run-$PREFIX.pids
quiet=0
[ "${1:-}" = --quiet ] && quiet=1
say() { [ $quiet = 1 ] || printf 'teardown: %s\n' "$*" >&2; }

if [ -f "$PIDS_FILE" ]; then
	while read -r pid; do
		# Only our daemons: the pid must still be an sf-* process we started.
		if [ -n "$pid" ] && grep -qa 'sf-' "/proc/$pid/cmdline" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null && say "stopped pid $pid"
		fi
	done <"$PIDS_FILE"
	sleep 1
	rm -f "$PIDS_FILE"
fi
"$here/cluster.sh" down --prefix "$PREFIX" >/dev/null 2>&1 || say "cluster down reported a problem"
"$here/services.sh" stop 2>/dev/null
say "done"
