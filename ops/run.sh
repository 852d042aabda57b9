#!/usr/bin/env bash
# The all-in-one development command (`make run`): start Redis and RabbitMQ (ops/services.sh),
# then sf-api, sf-networknode and one sf-hypervisor per hypervisor (SF_HYPERVISORS, default 2),
# in the foreground, each log line prefixed by its daemon. Ctrl-C or SIGTERM stops every
# process this script started, then the services.
#
# Today the daemons are skeletons (see README): they connect, declare their queues and wait.
# The development cluster of network namespaces arrives with the network-node issue.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
BIN=${SF_BIN_DIR:-$repo/build}
HYPERVISORS=${SF_HYPERVISORS:-2}

"$here/services.sh" start
eval "$("$here/services.sh" env | sed 's/^/export /')"

pids=()
stop_all() {
	trap - INT TERM EXIT
	echo "run: stopping ${#pids[@]} daemons" >&2
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	"$here/services.sh" stop
}
trap stop_all INT TERM EXIT

start() { # name command...
	local name=$1
	shift
	# The prefixer is a subshell of ours; the daemon's pid is what we stop.
	"$@" > >(sed -u "s/^/$name | /") 2>&1 &
	pids+=($!)
}

start sf-api "$BIN/sf-api"
start networknode env SF_NODE_NAME=networknode "$BIN/sf-networknode"
for i in $(seq 1 "$HYPERVISORS"); do
	start "hv$i" env SF_NODE_NAME="hv$i" "$BIN/sf-hypervisor"
done

cat >&2 <<MSG
run: Redis $SF_REDIS_URL, RabbitMQ on 127.0.0.1:${SF_AMQP_PORT:-17672}
run: started sf-api, sf-networknode and $HYPERVISORS sf-hypervisor (skeletons; see README)
run: Ctrl-C stops everything
MSG
wait -n "${pids[@]}" || true
echo "run: a daemon exited; stopping the rest" >&2
