#!/usr/bin/env bash
# Tear down what `make run` (ops/run.sh) started, also after a crash: the daemons it recorded by
# pid, the per-network namespaces and dnsmasq processes its network node made, the development
# cluster and the local Redis/RabbitMQ. The data in Redis stays (run/), so the next `make run`
# rebuilds the networks. Safe to run when nothing is left.
#   ops/teardown.sh [--quiet]     (SF_CLUSTER_PREFIX, SF_RUN_DIR as for ops/run.sh)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
export SF_RUN_DIR=${SF_RUN_DIR:-$repo/run}
PREFIX=${SF_CLUSTER_PREFIX:-sfdev}
PIDS_FILE=$SF_RUN_DIR/run-$PREFIX.pids
STORAGE=$SF_RUN_DIR/networknode-$PREFIX
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
# Per-network namespaces and their dnsmasq live outside the cluster's <prefix>-* namespaces.
# The network node of this cluster records what it made in Redis (nn:networknode:made) and
# keeps each network's dnsmasq state in its storage directory; both name the networks.
nets=()
if [ -d "$STORAGE/dhcp" ]; then
	for d in "$STORAGE"/dhcp/*/; do [ -d "$d" ] && nets+=("$(basename "$d")"); done
fi
if eval "$("$here/services.sh" env | sed 's/^/local_/')" 2>/dev/null &&
	redis-cli -u "$local_SF_REDIS_URL" ping >/dev/null 2>&1; then
	while read -r uuid; do [ -n "$uuid" ] && nets+=("$uuid"); done \
		< <(redis-cli -u "$local_SF_REDIS_URL" hkeys "${SF_REDIS_PREFIX:-sf:}nn:networknode:made" 2>/dev/null)
fi
for uuid in $(printf '%s\n' "${nets[@]}" | sort -u); do
	# Only uuid-named namespaces, and in them only the dnsmasq our network node started.
	[[ $uuid =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] || continue
	[ -e "/run/netns/$uuid" ] || continue
	for pid in $(ip netns pids "$uuid" 2>/dev/null); do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dnsmasq ] && kill -TERM "$pid" 2>/dev/null &&
			say "stopped dnsmasq pid $pid of network $uuid"
	done
	sleep 0.2
	ip netns del "$uuid" 2>/dev/null && say "removed network namespace $uuid"
done
"$here/cluster.sh" down --prefix "$PREFIX" >/dev/null 2>&1 || say "cluster down reported a problem"
"$here/services.sh" stop 2>/dev/null
say "done"
