#!/usr/bin/env bash
# Stop the two test shards start.sh started (by the pids it recorded); --purge also
# deletes their data folder.
set -uo pipefail
dir="${IPAR_CLICKHOUSE_DIR:-${TMPDIR:-/tmp}/ipar-clickhouse}"
for n in 1 2; do
  pidfile="$dir/shard$n/server.pid"
  [[ -f "$pidfile" ]] || continue
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "stop.sh: shard $n (pid $pid) still running after 30 s; sending KILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "stop.sh: shard $n stopped (pid $pid)" >&2
  fi
  rm -f "$pidfile"
done
if [[ "${1:-}" == "--purge" ]]; then
  rm -rf "$dir"
  echo "stop.sh: removed $dir" >&2
fi
exit 0
