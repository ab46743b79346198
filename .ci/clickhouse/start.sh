#!/usr/bin/env bash
# Start two ClickHouse servers on loopback, the two shards of the `ipar` cluster, each
# with its own ports and data folder, and print the store URL for them.
#
#   .ci/clickhouse/start.sh            # data under $IPAR_CLICKHOUSE_DIR (default /tmp/ipar-clickhouse)
#   eval "$(.ci/clickhouse/start.sh --env)"   # also export IPAR_CLICKHOUSE_URL in this shell
#   .ci/clickhouse/stop.sh [--purge]
#
# Ports: shard 1 HTTP $IPAR_CLICKHOUSE_HTTP_PORT (default 18123), native TCP 19100,
# shard 2 HTTP +1 and TCP +1. Nothing listens beyond 127.0.0.1. Needs clickhouse-server
# (Debian: apt-get install -y clickhouse-server clickhouse-client; bookworm has 18.16.1).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${IPAR_CLICKHOUSE_DIR:-${TMPDIR:-/tmp}/ipar-clickhouse}"
http1="${IPAR_CLICKHOUSE_HTTP_PORT:-18123}"
tcp1="${IPAR_CLICKHOUSE_TCP_PORT:-19100}"
inter1="${IPAR_CLICKHOUSE_INTERSERVER_PORT:-19110}"
env_out=0
[[ "${1:-}" == "--env" ]] && env_out=1

server="$(command -v clickhouse-server || true)"
[[ -z "$server" && -x /usr/sbin/clickhouse-server ]] && server=/usr/sbin/clickhouse-server
if [[ -z "$server" ]]; then
  echo "start.sh: clickhouse-server is not installed (apt-get install -y clickhouse-server clickhouse-client)" >&2
  exit 2
fi

# GET /ping on a loopback port without curl: "Ok." when the server answers.
ping_port() {
  local port="$1"
  (
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf 'GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    reply="$(timeout 2 cat <&3 || true)"
    [[ "$reply" == *"Ok."* ]]
  ) 2>/dev/null
}

url="clickhouse://127.0.0.1:${http1},127.0.0.1:$((http1 + 1))/ipar?cluster=ipar"
for n in 1 2; do
  shard="$dir/shard$n"
  http=$((http1 + n - 1)); tcp=$((tcp1 + n - 1)); inter=$((inter1 + n - 1))
  mkdir -p "$shard"/{data,tmp,log,user_files,format_schemas}
  if [[ -f "$shard/server.pid" ]] && kill -0 "$(cat "$shard/server.pid")" 2>/dev/null && ping_port "$http"; then
    echo "start.sh: shard $n already running (pid $(cat "$shard/server.pid"), http $http)" >&2
    continue
  fi
  sed -e "s#@DIR@#$shard#g" -e "s#@USERS@#$here/users.xml#g" -e "s#@HTTP_PORT@#$http#g" -e "s#@TCP_PORT@#$tcp#g" \
      -e "s#@INTERSERVER_PORT@#$inter#g" -e "s#@SHARD1_TCP@#$tcp1#g" -e "s#@SHARD2_TCP@#$((tcp1 + 1))#g" \
      "$here/config.xml.in" > "$shard/config.xml"
  # Its own session and process group, so stop.sh ends exactly this server by its pid.
  setsid "$server" --config-file="$shard/config.xml" >"$shard/log/stdout.log" 2>&1 < /dev/null &
  echo $! > "$shard/server.pid"
  echo "start.sh: shard $n starting (pid $(cat "$shard/server.pid"), http 127.0.0.1:$http, tcp 127.0.0.1:$tcp, data $shard/data)" >&2
done

for n in 1 2; do
  http=$((http1 + n - 1))
  for _ in $(seq 1 120); do
    ping_port "$http" && break
    if ! kill -0 "$(cat "$dir/shard$n/server.pid")" 2>/dev/null; then
      echo "start.sh: shard $n exited; its log:" >&2
      tail -n 30 "$dir/shard$n/log/server.err.log" "$dir/shard$n/log/stdout.log" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  if ! ping_port "$http"; then
    echo "start.sh: shard $n did not answer on 127.0.0.1:$http within 60 s" >&2
    exit 1
  fi
done
echo "$url" > "$dir/url"
echo "start.sh: both shards up; IPAR_CLICKHOUSE_URL=$url" >&2
if [[ "$env_out" == 1 ]]; then echo "export IPAR_CLICKHOUSE_URL='$url'"; else echo "$url"; fi
