#!/usr/bin/env bash
# Start and stop the local Redis and RabbitMQ that sf-net's tests and development cluster use.
# Everything (data, logs, pid files) lives in a state directory the project owns; both
# servers listen on loopback only, on ports that do not collide with a system instance.
#
#   ops/services.sh start|stop|status|env [redis|rabbitmq]
#
# The ports sit below the kernel's ephemeral range (32768-60999), so a client reconnecting
# while a server is down can never be handed the server's own port as its local port.
# Environment (defaults in brackets):
#   SF_RUN_DIR         state directory                 [<repo>/run]
#   SF_REDIS_PORT      Redis port on 127.0.0.1         [16379]
#   SF_AMQP_PORT       RabbitMQ AMQP port on 127.0.0.1 [17672]
#   SF_EPMD_PORT       our private epmd port           [14369]
#   SF_RABBIT_NODE     RabbitMQ node name              [sfnet-<amqp port>@localhost]
# `env` prints SF_REDIS_URL and SF_AMQP_URL for `eval`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
RUN=${SF_RUN_DIR:-$repo/run}
REDIS_PORT=${SF_REDIS_PORT:-16379}
AMQP_PORT=${SF_AMQP_PORT:-17672}
EPMD_PORT=${SF_EPMD_PORT:-14369}
NODE=${SF_RABBIT_NODE:-sfnet-$AMQP_PORT@localhost}
REDIS_DIR=$RUN/redis-$REDIS_PORT
RABBIT_DIR=$RUN/rabbitmq-$AMQP_PORT

# Call RabbitMQ's own scripts, not the /usr/sbin wrappers: those switch to the rabbitmq user
# and reset HOME, so the node would neither write our state directory nor share our cookie.
RABBIT_BIN=/usr/lib/rabbitmq/bin

log() { printf 'services: %s\n' "$*" >&2; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

rabbit_env() {
	export HOME=$RABBIT_DIR/home
	export RABBITMQ_MNESIA_BASE=$RABBIT_DIR/mnesia
	export RABBITMQ_LOG_BASE=$RABBIT_DIR/log
	export RABBITMQ_NODENAME=$NODE
	export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
	export RABBITMQ_NODE_PORT=$AMQP_PORT
	export RABBITMQ_DIST_PORT=$((AMQP_PORT + 10000))
	export RABBITMQ_PID_FILE=$RABBIT_DIR/rabbitmq.pid
	export RABBITMQ_CONFIG_FILE=$RABBIT_DIR/rabbitmq
	export RABBITMQ_ENABLED_PLUGINS_FILE=$RABBIT_DIR/enabled_plugins
	export ERL_EPMD_PORT=$EPMD_PORT
	export ERL_EPMD_ADDRESS=127.0.0.1
}

wait_for() { # seconds description command...
	local secs=$1 what=$2
	shift 2
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			log "$what did not answer within ${secs}s"
			return 1
		fi
		sleep 0.2
	done
}

redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

start_redis() {
	mkdir -p "$REDIS_DIR"
	if alive "$REDIS_DIR/redis.pid" && redis_ping; then
		log "redis already running on 127.0.0.1:$REDIS_PORT (pid $(cat "$REDIS_DIR/redis.pid"))"
		return 0
	fi
	# AOF on, fsync every second; no RDB snapshots; loopback only.
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" \
		--daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
		--appendonly yes --appendfsync everysec --save '' --protected-mode yes
	wait_for 20 redis redis_ping
	log "redis up on 127.0.0.1:$REDIS_PORT (pid $(cat "$REDIS_DIR/redis.pid"), data $REDIS_DIR)"
}

stop_redis() {
	local pidf=$REDIS_DIR/redis.pid
	if alive "$pidf"; then
		local pid
		pid=$(cat "$pidf")
		kill "$pid"
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
		log "redis stopped (pid $pid)"
	fi
	rm -f "$pidf"
}

rabbit_ping() { "$RABBIT_BIN"/rabbitmq-diagnostics -q -n "$NODE" ping; }

start_rabbitmq() {
	rabbit_env
	mkdir -p "$HOME" "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
	if alive "$RABBIT_DIR/server.pid" && rabbit_ping >/dev/null 2>&1; then
		log "rabbitmq already running on 127.0.0.1:$AMQP_PORT (pid $(cat "$RABBIT_DIR/server.pid"))"
		return 0
	fi
	[ -f "$RABBITMQ_ENABLED_PLUGINS_FILE" ] || echo '[].' >"$RABBITMQ_ENABLED_PLUGINS_FILE"
	cat >"$RABBITMQ_CONFIG_FILE.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$AMQP_PORT
loopback_users = none
log.console = false
log.file.level = warning
CONF
	# `rabbitmq-server -detached` does not start here; run it in the background instead.
	setsid "$RABBIT_BIN"/rabbitmq-server >"$RABBITMQ_LOG_BASE/stdout.log" 2>&1 </dev/null &
	echo $! >"$RABBIT_DIR/server.pid"
	if ! wait_for 120 rabbitmq rabbit_ping; then
		tail -20 "$RABBITMQ_LOG_BASE/stdout.log" >&2 || true
		return 1
	fi
	# The node is up; wait until it accepts AMQP connections too.
	wait_for 60 "rabbitmq amqp listener" "$RABBIT_BIN"/rabbitmq-diagnostics -q -n "$NODE" check_port_listener "$AMQP_PORT"
	log "rabbitmq up on 127.0.0.1:$AMQP_PORT (node $NODE, pid $(cat "$RABBIT_DIR/server.pid"), data $RABBIT_DIR)"
}

stop_rabbitmq() {
	rabbit_env
	local pidf=$RABBIT_DIR/server.pid
	if alive "$pidf"; then
		local pid
		pid=$(cat "$pidf")
		"$RABBIT_BIN"/rabbitmqctl -q -n "$NODE" stop >/dev/null 2>&1 || true
		for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		# The script's process group holds the Erlang VM; stop what is left of it.
		kill -0 "$pid" 2>/dev/null && kill -- -"$pid" 2>/dev/null
		sleep 0.5
		kill -0 "$pid" 2>/dev/null && kill -9 -- -"$pid" 2>/dev/null
		log "rabbitmq stopped (pid $pid)"
	fi
	rm -f "$pidf"
	# Our private epmd (its own port) was started by this node; stop it when no node is left.
	if epmd -port "$EPMD_PORT" -names 2>/dev/null | grep -q '^name '; then
		:
	else
		epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
	fi
}

what=${2:-all}
case "${1:-}" in
start)
	[ "$what" = rabbitmq ] || start_redis
	[ "$what" = redis ] || start_rabbitmq
	;;
stop)
	[ "$what" = redis ] || stop_rabbitmq
	[ "$what" = rabbitmq ] || stop_redis
	;;
status)
	rc=0
	if redis_ping; then echo "redis: up 127.0.0.1:$REDIS_PORT"; else echo "redis: down"; rc=1; fi
	rabbit_env
	if rabbit_ping >/dev/null 2>&1; then echo "rabbitmq: up 127.0.0.1:$AMQP_PORT ($NODE)"; else echo "rabbitmq: down"; rc=1; fi
	exit $rc
	;;
env)
	echo "SF_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
	echo "SF_AMQP_URL=amqp://guest:guest@127.0.0.1:$AMQP_PORT/"
	;;
*)
	echo "usage: $0 start|stop|status|env [redis|rabbitmq]" >&2
	exit 2
	;;
esac
