#!/usr/bin/env bash
# API layer: start our own Redis and RabbitMQ (ops/services.sh) on the API test ports, run the
# pytest suite of tests/api against them (its conftest.py starts sf-api with a private Redis
# key prefix and RabbitMQ vhost), stop them again. Ends with "api: N passed, N failed".
#
# Usage: tests/lib/run-api.sh [test paths and/or pytest options]
#   with no test path, tests/api is run; e.g. tests/lib/run-api.sh tests/api/test_events.py -x
# Environment: SF_TEST_API_REDIS_PORT [16579], SF_TEST_API_AMQP_PORT [17872],
# SF_TEST_API_EPMD_PORT [14569], SF_TEST_RUN_DIR [<repo>/run/test],
# SF_TEST_KEEP_SERVICES=1 leaves the services running, SF_API_BIN [<repo>/build-test/sf-api].
#
# The ports differ from the integration layer's so both layers can run at the same time. Runs
# of this script are serialised with a lock: one run stopping the services would break another.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lib/pytest-summary.sh
. "$here/pytest-summary.sh"

export SF_REDIS_PORT=${SF_TEST_API_REDIS_PORT:-16579}
export SF_AMQP_PORT=${SF_TEST_API_AMQP_PORT:-17872}
export SF_EPMD_PORT=${SF_TEST_API_EPMD_PORT:-14569}
export SF_RUN_DIR=${SF_TEST_RUN_DIR:-$repo/run/test}
export SF_TEST_RUN_DIR=$SF_RUN_DIR
node=${SF_RABBIT_NODE:-sfnet-$SF_AMQP_PORT@localhost}

summary() { # passed failed
	echo "api: $1 passed, $2 failed"
}

mkdir -p "$SF_RUN_DIR"
exec 9>"$SF_RUN_DIR/api-layer.lock"
if ! flock -n 9; then
	echo "api: another run holds $SF_RUN_DIR/api-layer.lock, waiting"
	flock 9
fi

# Children must not inherit the lock: a daemonized redis-server would hold it after we exit.
stop_services() {
	[ "${SF_TEST_KEEP_SERVICES:-}" = 1 ] || "$repo/ops/services.sh" stop 9>&-
}
trap stop_services EXIT

if ! "$repo/ops/services.sh" start 9>&-; then
	echo "api: could not start redis/rabbitmq (logs under $SF_RUN_DIR)"
	summary 0 1
	exit 1
fi
eval "$("$repo/ops/services.sh" env | sed 's/^/export /')"
# rabbitmqctl as ops/services.sh runs the node: its cookie under the node's HOME, our epmd.
export SF_RABBITMQCTL="env HOME=$SF_RUN_DIR/rabbitmq-$SF_AMQP_PORT/home ERL_EPMD_PORT=$SF_EPMD_PORT /usr/lib/rabbitmq/bin/rabbitmqctl -q -n $node"

# Test paths given? Otherwise run the whole layer, with the given options.
paths=no
for a in "$@"; do
	case $a in
	-*) ;;
	*) [ -e "${a%%::*}" ] && paths=yes ;;
	esac
done
args=("$@")
[ $paths = yes ] || args=(tests/api "$@")

out=$(mktemp)
cd "$repo" || exit 1
/usr/bin/python3 -m pytest -q -p no:cacheprovider "${args[@]}" 2>&1 9>&- | tee "$out"
rc=${PIPESTATUS[0]}
pytest_summary api "$rc" "$out"
status=$?
rm -f "$out"
exit $status
