#!/usr/bin/env bash
# Integration layer: start our own Redis and RabbitMQ (ops/services.sh) on test ports with a
# throwaway state directory, run each integration binary against them, stop them again.
# Usage: tests/lib/run-integration.sh BINARY...
# Environment: SF_TEST_REDIS_PORT [16479], SF_TEST_AMQP_PORT [17772], SF_TEST_KEEP_SERVICES=1
# leaves the services running (for debugging).
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

export SF_REDIS_PORT=${SF_TEST_REDIS_PORT:-16479}
export SF_AMQP_PORT=${SF_TEST_AMQP_PORT:-17772}
export SF_EPMD_PORT=${SF_TEST_EPMD_PORT:-14469}
export SF_RUN_DIR=${SF_TEST_RUN_DIR:-$repo/run/test}

stop_services() {
	[ "${SF_TEST_KEEP_SERVICES:-}" = 1 ] || "$repo/ops/services.sh" stop
}
trap stop_services EXIT

if ! "$repo/ops/services.sh" start; then
	echo "integration: could not start redis/rabbitmq (logs under $SF_RUN_DIR)"
	echo "integration: 0 passed, 1 failed"
	exit 1
fi
eval "$("$repo/ops/services.sh" env | sed 's/^/export /')"

"$here/run-cmocka.sh" integration "$@"
