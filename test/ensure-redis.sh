#!/usr/bin/env bash
# ensure-redis.sh prints a Redis URL that tests can use, on stdout and nothing
# else; diagnostics go to stderr. In order:
#   1. $VERIFY_TEST_REDIS_URL, if set;
#   2. redis://127.0.0.1:6379/15, if a Redis answers PING there;
#   3. a throwaway redis-server on a free loopback port from 6390 on, without
#      persistence.
# In every case it first installs Debian's redis-server when the binary is
# missing (as root), since the cluster and outage tests start their own.
# Exits non-zero with a message on stderr when none of these works.
#
# Usage: export VERIFY_TEST_REDIS_URL="$(test/ensure-redis.sh)"
set -euo pipefail

log() { echo "ensure-redis: $*" >&2; }

# ping PORT succeeds when a Redis on 127.0.0.1:PORT answers +PONG.
ping() {
	local port=$1 reply
	if command -v redis-cli >/dev/null 2>&1; then
		reply=$(timeout 2 redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) || return 1
		[[ $reply == PONG ]]
		return
	fi
	# No redis-cli: speak the inline protocol over bash's /dev/tcp.
	(
		exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
		printf 'PING\r\n' >&3
		IFS= read -r -t 2 reply <&3 || exit 1
		[[ ${reply%$'\r'} == +PONG ]]
	) 2>/dev/null
}

# port_free PORT succeeds when nothing listens on 127.0.0.1:PORT.
port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# install_redis_server installs Debian's redis-server when the binary is
# missing: the cluster and outage tests start servers of their own even when
# a Redis answers on 6379.
install_redis_server() {
	command -v redis-server >/dev/null 2>&1 && return 0
	if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
		log "redis-server is not installed and this is not root with apt-get;"
		log "install it (apt-get install redis-server): the cluster and outage tests need it"
		return 1
	fi
	log "installing redis-server with apt-get"
	if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server >&2 ||
		{ apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server >&2; }; }; then
		log "apt-get install redis-server failed"
		return 1
	fi
}

install_redis_server || exit 1

if [[ -n ${VERIFY_TEST_REDIS_URL:-} ]]; then
	log "using \$VERIFY_TEST_REDIS_URL"
	echo "$VERIFY_TEST_REDIS_URL"
	exit 0
fi

if ping 6379; then
	log "using the Redis on 127.0.0.1:6379, database 15"
	echo "redis://127.0.0.1:6379/15"
	exit 0
fi

for port in $(seq 6390 6399); do
	# A throwaway server left by an earlier run is as good as a new one.
	if ping "$port"; then
		log "using the Redis already on 127.0.0.1:$port"
		echo "redis://127.0.0.1:$port/15"
		exit 0
	fi
	port_free "$port" || continue
	log "starting a throwaway redis-server on 127.0.0.1:$port"
	dir=$(mktemp -d "${TMPDIR:-/tmp}/verifyd-redis.XXXXXX")
	if ! redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
		--dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" \
		--logfile "$dir/redis.log" >&2; then
		log "redis-server failed to start on port $port"
		continue
	fi
	for _ in $(seq 50); do
		if ping "$port"; then
			log "started (pid file $dir/redis.pid, log $dir/redis.log)"
			echo "redis://127.0.0.1:$port/15"
			exit 0
		fi
		sleep 0.1
	done
	log "redis-server on port $port did not answer; see $dir/redis.log"
done

log "could not find or start a Redis; set VERIFY_TEST_REDIS_URL"
exit 1
