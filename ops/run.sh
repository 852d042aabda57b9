#!/usr/bin/env bash
# The all-in-one development command (`make run`), as root:
#   1. Redis and RabbitMQ (ops/services.sh), state under run/;
#   2. the development cluster (ops/cluster.sh up --prefix sfdev): a network-node namespace,
#      SF_HYPERVISORS hypervisor namespaces (default 2) and an "outside" namespace;
#   3. sf-api on http://127.0.0.1:13000, sf-networknode (node namespace sfdev-nn) and one
#      sf-hypervisor per hypervisor namespace, in the foreground, each log line prefixed by
#      its daemon;
#   4. waits until every node has registered, then prints how to use it.
# Ctrl-C or SIGTERM stops every daemon it started (by pid), removes the cluster and stops the
# services. `ops/teardown.sh` does the same for a run that crashed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
export SF_RUN_DIR=${SF_RUN_DIR:-$repo/run}
BIN=${SF_BIN_DIR:-$repo/build}
HYPERVISORS=${SF_HYPERVISORS:-2}
PREFIX=${SF_CLUSTER_PREFIX:-sfdev}
API_PORT=${SF_API_PORT:-13000}
PIDS_FILE=$SF_RUN_DIR/run-$PREFIX.pids

log() { printf 'run: %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { log "needs root (network namespaces)"; exit 1; }
mkdir -p "$SF_RUN_DIR"
# A previous run that crashed may have left daemons, the cluster or the services behind.
"$here/teardown.sh" --quiet

"$here/services.sh" start
eval "$("$here/services.sh" env | sed 's/^/export /')"
"$here/cluster.sh" up --prefix "$PREFIX" --hypervisors "$HYPERVISORS" >/dev/null
eval "$("$here/cluster.sh" env --prefix "$PREFIX" | sed 's/^/export /')"

pids=()
stopping=0
stop_all() {
	[ $stopping = 1 ] && return
	stopping=1
	trap - INT TERM EXIT
	log "stopping ${#pids[@]} daemons"
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -f "$PIDS_FILE"
	"$here/teardown.sh"
	log "stopped"
}
trap stop_all INT TERM EXIT

start() { # name command...
	local name=$1
	shift
	"$@" > >(sed -u "s/^/$name | /") 2>&1 &
	pids+=($!)
	echo $! >>"$PIDS_FILE"
}

: >"$PIDS_FILE"
export SF_SYSTEM_KEY_FILE=$SF_RUN_DIR/sf-api-system.key
start sf-api env SF_API_PORT="$API_PORT" "$BIN/sf-api"
start networknode env SF_NODE_NAME=networknode SF_NODE_NETNS="$SF_NN_NETNS" \
	SF_NODE_MESH_NIC="$SF_MESH_NIC" SF_NODE_MESH_IP="$SF_NN_MESH_IP" \
	SF_NODE_EGRESS_NIC="$SF_EGRESS_NIC" SF_DNS_SERVER="$SF_OUTSIDE_IP" \
	SF_STORAGE_DIR="$SF_RUN_DIR/networknode-$PREFIX" "$BIN/sf-networknode"
for i in $(seq 1 "$HYPERVISORS"); do
	ns_var=SF_HV${i}_NETNS
	ip_var=SF_HV${i}_MESH_IP
	start "hv$i" env SF_NODE_NAME="hv$i" SF_NODE_NETNS="${!ns_var}" \
		SF_NODE_MESH_NIC="$SF_MESH_NIC" SF_NODE_MESH_IP="${!ip_var}" "$BIN/sf-hypervisor"
done

url=http://127.0.0.1:$API_PORT
# Wait for the API and the system key, then for every node to register.
for _ in $(seq 300); do
	[ -s "$SF_SYSTEM_KEY_FILE" ] && curl -sf "$url/" >/dev/null 2>&1 && break
	sleep 0.2
done
token=$(curl -sf -X POST "$url/auth" -H 'Content-Type: application/json' \
	-d "{\"namespace\": \"system\", \"key\": \"$(cat "$SF_SYSTEM_KEY_FILE")\"}" |
	/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])') ||
	{ log "could not log in to sf-api; see its log above"; exit 1; }
want=$((HYPERVISORS + 1))
for _ in $(seq 300); do
	up=$(curl -sf "$url/nodes" -H "Authorization: Bearer $token" |
		/usr/bin/python3 -c 'import json, sys; print(sum(n["state"] == "up" for n in json.load(sys.stdin)))' 2>/dev/null || echo 0)
	[ "$up" -ge "$want" ] && break
	sleep 0.2
done
[ "${up:-0}" -ge "$want" ] || { log "only $up of $want nodes registered; see the logs above"; exit 1; }

cat >&2 <<MSG

run: sf-net is up: $want nodes registered (networknode, hv1..hv$HYPERVISORS)
run: API        $url
run: system key $SF_SYSTEM_KEY_FILE  (namespace "system")
run: Redis $SF_REDIS_URL, RabbitMQ 127.0.0.1:${SF_AMQP_PORT:-17672}, cluster prefix $PREFIX

Try it (in another shell, as root):

  API=$url
  TOKEN=\$(curl -s -X POST \$API/auth -d "{\"namespace\": \"system\", \"key\": \"\$(cat $SF_SYSTEM_KEY_FILE)\"}" \\
          | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s -X POST \$API/networks -H "Authorization: Bearer \$TOKEN" \\
       -d '{"netblock": "10.10.0.0/24", "name": "demo"}'
  curl -s \$API/networks/demo -H "Authorization: Bearer \$TOKEN"          # wait for "state": "created"
  ip netns add demo-vm1
  curl -s -X POST \$API/interfaces -H "Authorization: Bearer \$TOKEN" \\
       -d "{\"network_uuid\": \"demo\", \"instance_uuid\": \"\$(cat /proc/sys/kernel/random/uuid)\",
            \"node\": \"hv1\", \"kind\": \"veth\", \"netns\": \"demo-vm1\"}"
  ip netns exec demo-vm1 busybox udhcpc -i eth0 -n -q -f     # gets the reserved address
  ip netns exec demo-vm1 ping -c 3 $SF_INTERNET_HOST        # out through NAT to "the internet"
  curl -s \$API/jobs -H "Authorization: Bearer \$TOKEN"     # the jobs these calls queued, newest first

With Shaken Fist's client (pip install shakenfist-client; not packaged for Debian):

  export SHAKENFIST_API_URL=$url SHAKENFIST_NAMESPACE=system SHAKENFIST_KEY=\$(cat $SF_SYSTEM_KEY_FILE)
  sf-client network create demo 10.10.0.0/24
  sf-client network list

Ctrl-C stops everything (delete the demo-vm1 namespace yourself: ip netns del demo-vm1).
MSG
wait -n "${pids[@]}" || true
[ $stopping = 1 ] || log "a daemon exited; stopping the rest"
