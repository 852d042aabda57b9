#!/usr/bin/env bash
# Install every Debian package sf-net needs to build, run and test.
# Idempotent: when everything is present it only asks dpkg, which takes well under a second.
# Usage: ops/deps.sh [--check]   (--check: report what is missing, install nothing, exit 1 if any)
set -euo pipefail

PACKAGES=(
	# build
	build-essential pkg-config
	libmicrohttpd-dev libjansson-dev libhiredis-dev librabbitmq-dev
	libnl-3-dev libnl-route-3-dev uuid-dev libnftables-dev libjwt-dev libsodium-dev
	libcmocka-dev
	# run
	redis-server rabbitmq-server dnsmasq-base dnsmasq-utils nftables iproute2 iputils-ping
	# test
	python3 python3-pytest python3-requests python3-pika python3-jsonschema json-schema-test-suite
	busybox udhcpc
	# benchmarks
	wrk linux-perf
)

# One dpkg-query for all packages; a package dpkg has never heard of prints nothing, so
# anything not reported as installed is missing.
declare -A installed=()
while read -r pkg status; do
	[ "$status" = installed ] && installed[${pkg%%:*}]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for p in "${PACKAGES[@]}"; do
	[ -n "${installed[$p]-}" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "${1-}" = "--check" ]; then
	echo "missing packages: ${missing[*]}" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: need root to install: ${missing[*]}" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}" >&2
# Do not let package scripts start system-wide redis/rabbitmq/dnsmasq services: ours run
# from ops/services.sh on their own ports and state directory.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	made_policy=1
fi
trap '[ $made_policy = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
