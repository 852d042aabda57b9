#!/usr/bin/env bash
# The development cluster: one machine simulates a network node, N hypervisors and "the
# internet" with network namespaces (ARCHITECTURE.md section 4, "Development cluster").
#
#   ops/cluster.sh up|down|status|env [--hypervisors N] [--prefix P]
#
# Namespaces, all named <P>-* (P defaults to "sfdev"):
#   <P>-fabric   the underlay: bridge <P>-br (198.18.0.0/24 is carried, nothing addressed here)
#   <P>-nn       network node: mesh0 198.18.0.2/24 on the underlay; egress0 203.0.113.2/24
#                facing <P>-outside, default route via 203.0.113.1; ip_forward=1
#   <P>-hv<i>    hypervisor i (1..N): mesh0 198.18.0.(10+i)/24 on the underlay
#   <P>-outside  the internet: <P>-up 203.0.113.1/24 facing the network node, route to the
#                floating pool 198.51.100.0/24 via 203.0.113.2, and 198.19.0.1/32 on lo (an
#                "internet host" to ping; not in 192.0.2.0/24, which these machines use for
#                their real uplink, so a ping from the wrong namespace fails instead of
#                reaching a real gateway)
# ip_forward is 1 in <P>-nn and 0 in every other namespace of ours.
#
# Every veth is created inside the namespaces (`ip -n A link add X type veth peer name Y netns
# B`), so no device ever exists in the machine's own namespace, and nothing is configured
# there. Devices that are not named by the workers' contract (mesh0, egress0) carry the prefix
# (<P>-br, <P>-nn, <P>-hv<i>, <P>-up), which is how `up` and `status` check that nothing of
# ours is in the machine's own namespace.
#
# MTU: the underlay (bridge, fabric ports, mesh0) is 9000, so a VXLAN device on mesh0 carries
# an inner MTU of up to 8950 (50 bytes of VXLAN/UDP/IPv4/Ethernet overhead); networks with the
# usual 1450 fit with room to spare. The egress link is 1500, like a real uplink; the egress
# bridge of spec 6.3 takes that MTU from egress0.
#
# `up` converges (run it twice, or with another N: hypervisor namespaces beyond N go), then
# runs the checks of `status`. `down` removes the namespaces of prefix P: those listed in the
# state file and any whose name matches exactly <P>-(fabric|nn|outside|hv<digits>), so it also
# works after a crash that lost the state file. `status` lists them and pings (nn -> each hv
# over the underlay, nn -> outside and the internet host); it exits 1 if anything is wrong.
# `env` prints the state file: KEY=VALUE lines for `eval "$(ops/cluster.sh env | sed
# 's/^/export /')"`. The state file is $SF_RUN_DIR/cluster-<P>.env (default <repo>/run).
#
# Needs root (ip netns). Processes still inside a namespace at `down` are reported, not killed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
RUN=${SF_RUN_DIR:-$repo/run}

PREFIX=sfdev
HYPERVISORS=2

MESH_NIC=mesh0
MESH_NETWORK=198.18.0.0/24
MESH_LEN=24
NN_MESH_IP=198.18.0.2
UNDERLAY_MTU=9000
EGRESS_NIC=egress0
EGRESS_LEN=24
NN_EGRESS_IP=203.0.113.2
OUTSIDE_IP=203.0.113.1
EGRESS_MTU=1500
FLOATING_NETWORK=198.51.100.0/24
INTERNET_HOST=198.19.0.1

log() { printf 'cluster: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

usage() {
	echo "usage: $0 up|down|status|env [--hypervisors N] [--prefix P]" >&2
	exit 2
}

hv_mesh_ip() { echo "198.18.0.$((10 + $1))"; }

# --- namespaces and links ---------------------------------------------------------------------

netns_list() { ip netns list | awk '{print $1}'; }

# grep without -q in pipelines: with pipefail, an early exit would fail the writer (SIGPIPE).
netns_exists() { netns_list | grep -xF -- "$1" >/dev/null; }

# Our namespaces, found by exact name: <P>-fabric, <P>-nn, <P>-outside, <P>-hv<digits>.
netns_of_prefix() {
	netns_list | grep -xE -- "${PREFIX}-(fabric|nn|outside|hv[0-9]+)" || true
}

ensure_netns() {
	netns_exists "$1" || ip netns add "$1"
	ip -n "$1" link set lo up
}

link_exists() { # netns name
	ip -n "$1" link show dev "$2" >/dev/null 2>&1
}

# A veth with end A in namespace NA and end B in namespace NB, created in place. A half-made
# pair (one end missing) is deleted and made again.
ensure_veth() { # NA A NB B mtu
	local na=$1 a=$2 nb=$3 b=$4 mtu=$5
	if link_exists "$na" "$a" && link_exists "$nb" "$b"; then
		:
	else
		link_exists "$na" "$a" && ip -n "$na" link del dev "$a"
		link_exists "$nb" "$b" && ip -n "$nb" link del dev "$b"
		ip -n "$na" link add "$a" mtu "$mtu" type veth peer name "$b" mtu "$mtu" netns "$nb"
	fi
	ip -n "$na" link set dev "$a" mtu "$mtu" up
	ip -n "$nb" link set dev "$b" mtu "$mtu" up
}

# Exactly these global IPv4 addresses on the device: others (left by an older layout) go, and
# wanted ones already there stay untouched.
ensure_addrs() { # netns dev address/len...
	local ns=$1 dev=$2 a
	shift 2
	for a in $(ip -n "$ns" -4 -o addr show dev "$dev" scope global | awk '{print $4}'); do
		case " $* " in *" $a "*) ;; *) ip -n "$ns" addr del "$a" dev "$dev" ;; esac
	done
	for a in "$@"; do
		ip -n "$ns" addr replace "$a" dev "$dev"
	done
}

set_forwarding() { # netns 0|1
	ip netns exec "$1" sysctl -qw net.ipv4.ip_forward="$2"
}

# --- state file -------------------------------------------------------------------------------

state_file() { echo "$RUN/cluster-$PREFIX.env"; }

all_netns() { # the namespaces of a cluster of $HYPERVISORS hypervisors
	local i
	echo "$PREFIX-fabric" "$PREFIX-nn" "$PREFIX-outside"
	for i in $(seq 1 "$HYPERVISORS"); do echo "$PREFIX-hv$i"; done
}

write_state() {
	local f tmp i
	f=$(state_file)
	tmp=$f.tmp
	mkdir -p "$RUN"
	{
		echo "SF_CLUSTER_PREFIX=$PREFIX"
		echo "SF_CLUSTER_HYPERVISORS=$HYPERVISORS"
		echo "SF_CLUSTER_NETNS=\"$(all_netns | tr '\n' ' ' | sed 's/ $//')\""
		echo "SF_FABRIC_NETNS=$PREFIX-fabric"
		echo "SF_MESH_NIC=$MESH_NIC"
		echo "SF_MESH_NETWORK=$MESH_NETWORK"
		echo "SF_UNDERLAY_MTU=$UNDERLAY_MTU"
		echo "SF_NN_NETNS=$PREFIX-nn"
		echo "SF_NN_MESH_IP=$NN_MESH_IP"
		for i in $(seq 1 "$HYPERVISORS"); do
			echo "SF_HV${i}_NETNS=$PREFIX-hv$i"
			echo "SF_HV${i}_MESH_IP=$(hv_mesh_ip "$i")"
		done
		echo "SF_EGRESS_NIC=$EGRESS_NIC"
		echo "SF_NN_EGRESS_IP=$NN_EGRESS_IP"
		echo "SF_FLOATING_NETWORK=$FLOATING_NETWORK"
		echo "SF_OUTSIDE_NETNS=$PREFIX-outside"
		echo "SF_OUTSIDE_IP=$OUTSIDE_IP"
		echo "SF_INTERNET_HOST=$INTERNET_HOST"
	} >"$tmp"
	mv "$tmp" "$f"
}

state_value() { # key: from the state file, empty when there is none
	local f
	f=$(state_file)
	[ -f "$f" ] || return 0
	sed -n "s/^$1=//p" "$f" | tr -d '"'
}

# --- checks -----------------------------------------------------------------------------------

FAILED=0
check() { # description command...
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "  ok   $what"
	else
		echo "  FAIL $what"
		FAILED=1
	fi
}

# ping -c1 -W1, up to three tries: a port that has just come up may still be learning.
ping_from() { # netns address [ping options]
	local ns=$1 addr=$2 _
	shift 2
	for _ in 1 2 3; do
		ip netns exec "$ns" ping -n -q -c1 -W1 "$@" "$addr" >/dev/null 2>&1 && return 0
	done
	return 1
}

# None of our prefixed devices in the machine's own namespace.
root_clean() {
	local names
	names=$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//')
	! printf '%s\n' "$names" | grep -- "^$PREFIX-" >/dev/null
}

outside_routes_floating() {
	ip -n "$PREFIX-outside" route show "$FLOATING_NETWORK" | grep "via $NN_EGRESS_IP dev $PREFIX-up" >/dev/null
}

forwarding_is() { # netns value
	[ "$(ip netns exec "$1" sysctl -n net.ipv4.ip_forward)" = "$2" ]
}

run_checks() {
	local ns i
	echo "cluster $PREFIX ($HYPERVISORS hypervisors):"
	for ns in $(all_netns); do
		check "netns $ns exists" netns_exists "$ns"
	done
	check "no $PREFIX-* device in the machine's own namespace" root_clean
	check "ip_forward=1 in $PREFIX-nn" forwarding_is "$PREFIX-nn" 1
	for i in $(seq 1 "$HYPERVISORS"); do
		check "nn -> hv$i $(hv_mesh_ip "$i") over the underlay" \
			ping_from "$PREFIX-nn" "$(hv_mesh_ip "$i")"
	done
	# 9000 bytes unfragmented (8972 of ICMP payload): room for VXLAN with an inner MTU of 8950
	check "underlay carries $UNDERLAY_MTU-byte packets (nn -> hv1, DF set)" \
		ping_from "$PREFIX-nn" "$(hv_mesh_ip 1)" -M "do" -s $((UNDERLAY_MTU - 28))
	check "nn -> outside $OUTSIDE_IP" ping_from "$PREFIX-nn" "$OUTSIDE_IP"
	check "nn -> internet host $INTERNET_HOST" ping_from "$PREFIX-nn" "$INTERNET_HOST"
	check "outside routes $FLOATING_NETWORK via $NN_EGRESS_IP" outside_routes_floating
	return $FAILED
}

# --- commands ---------------------------------------------------------------------------------

cmd_up() {
	local f=$PREFIX-fabric nn=$PREFIX-nn out=$PREFIX-outside br=$PREFIX-br i hv ns
	local t0=$SECONDS

	ensure_netns "$f"
	if ! link_exists "$f" "$br"; then
		ip -n "$f" link add "$br" type bridge stp_state 0 forward_delay 0
	fi
	ip -n "$f" link set dev "$br" mtu "$UNDERLAY_MTU" up
	set_forwarding "$f" 0

	# network node: underlay port, egress link to the outside
	ensure_netns "$nn"
	ensure_netns "$out"
	ensure_veth "$f" "$PREFIX-nn" "$nn" "$MESH_NIC" "$UNDERLAY_MTU"
	ip -n "$f" link set dev "$PREFIX-nn" master "$br"
	ensure_addrs "$nn" "$MESH_NIC" "$NN_MESH_IP/$MESH_LEN"
	ensure_veth "$out" "$PREFIX-up" "$nn" "$EGRESS_NIC" "$EGRESS_MTU"
	ensure_addrs "$nn" "$EGRESS_NIC" "$NN_EGRESS_IP/$EGRESS_LEN"
	ip -n "$nn" route replace default via "$OUTSIDE_IP" dev "$EGRESS_NIC"
	set_forwarding "$nn" 1

	# the outside
	ensure_addrs "$out" "$PREFIX-up" "$OUTSIDE_IP/$EGRESS_LEN"
	ensure_addrs "$out" lo "$INTERNET_HOST/32"
	ip -n "$out" route replace "$FLOATING_NETWORK" via "$NN_EGRESS_IP" dev "$PREFIX-up"
	set_forwarding "$out" 0

	# hypervisors
	for i in $(seq 1 "$HYPERVISORS"); do
		hv=$PREFIX-hv$i
		ensure_netns "$hv"
		ensure_veth "$f" "$hv" "$hv" "$MESH_NIC" "$UNDERLAY_MTU"
		ip -n "$f" link set dev "$hv" master "$br"
		ensure_addrs "$hv" "$MESH_NIC" "$(hv_mesh_ip "$i")/$MESH_LEN"
		set_forwarding "$hv" 0
	done
	# hypervisors beyond N, from an earlier `up` with a larger N
	for ns in $(netns_of_prefix); do
		case $ns in
		"$PREFIX"-hv*)
			i=${ns#"$PREFIX"-hv}
			if [ "$i" -gt "$HYPERVISORS" ]; then
				log "removing $ns (beyond --hypervisors $HYPERVISORS)"
				delete_netns "$ns"
			fi
			;;
		esac
	done

	# A recreated device has a new MAC: forget neighbours learnt before, rather than wait for
	# the kernel's unicast probes of the old one to time out.
	for ns in "$nn" "$out" $(all_netns | grep -- "-hv"); do
		ip -n "$ns" neigh flush all
	done

	write_state
	log "up in $((SECONDS - t0))s; state in $(state_file)"
	run_checks
}

delete_netns() {
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')
	if [ -n "$pids" ]; then
		log "processes still in $1 keep it alive after removal: $pids"
		LEFT=1
	fi
	ip netns del "$1"
}

cmd_down() {
	local ns todo=()
	LEFT=0
	# Namespaces of the state file that still exist, then any others of the exact pattern.
	for ns in $(state_value SF_CLUSTER_NETNS); do
		case $ns in "$PREFIX"-*) netns_exists "$ns" && todo+=("$ns") ;; esac
	done
	mapfile -t -O ${#todo[@]} todo < <(netns_of_prefix)
	[ ${#todo[@]} -gt 0 ] || return 0
	# Each once; hypervisors and the network node before the fabric.
	for ns in $(printf '%s\n' "${todo[@]}" | sort -u | sort -t- -k2,2r); do
		delete_netns "$ns"
		log "removed netns $ns"
	done
	rm -f "$(state_file)"
	if [ -n "$(netns_of_prefix)" ]; then
		die "namespaces of $PREFIX remain: $(netns_of_prefix | tr '\n' ' ')"
	fi
	[ $LEFT -eq 0 ] || exit 1
}

cmd_status() {
	local found n
	found=$(netns_of_prefix)
	if [ -z "$found" ]; then
		echo "cluster $PREFIX: down"
		return 1
	fi
	echo "namespaces: $(echo "$found" | tr '\n' ' ')"
	n=$(state_value SF_CLUSTER_HYPERVISORS)
	if [ -z "$n" ]; then
		echo "  FAIL no state file $(state_file)"
		FAILED=1
	else
		HYPERVISORS=$n
	fi
	run_checks
}

cmd_env() {
	local f
	f=$(state_file)
	[ -f "$f" ] || die "cluster $PREFIX is not up (no $f)"
	cat "$f"
}

# --- main -------------------------------------------------------------------------------------

[ $# -ge 1 ] || usage
cmd=$1
shift
while [ $# -gt 0 ]; do
	case $1 in
	--hypervisors)
		[ $# -ge 2 ] || usage
		HYPERVISORS=$2
		shift 2
		;;
	--prefix)
		[ $# -ge 2 ] || usage
		PREFIX=$2
		shift 2
		;;
	*) usage ;;
	esac
done
# The prefix goes into device names (<P>-hv99 must fit in 15 characters) and patterns.
[[ $PREFIX =~ ^[a-z][a-z0-9]{0,9}$ ]] || die "prefix must be [a-z][a-z0-9]{0,9}: '$PREFIX'"
[[ $HYPERVISORS =~ ^[1-9][0-9]?$ ]] || die "--hypervisors must be 1..99: '$HYPERVISORS'"

case $cmd in
up | down | status) [ "$(id -u)" -eq 0 ] || die "$cmd needs root" ;;
env) ;;
*) usage ;;
esac

# One command at a time (for all clusters: a lock on the state directory, so no lock file).
mkdir -p "$RUN"
exec 9<"$RUN"
flock 9

case $cmd in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
env) cmd_env ;;
esac
