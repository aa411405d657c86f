#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests (issue 19): `start STATE_DIR` runs initdb and
# pg_ctl in a fresh temporary directory (Unix socket only, no TCP port, trust authentication
# for the local user "postgres") and writes STATE_DIR/host and STATE_DIR/port, which the tests
# read (store/postgres_test_database.hpp); `stop STATE_DIR` stops it and removes everything.
# `restart STATE_DIR` kills the server with SIGKILL and starts it again on the same data (for
# the tests that lose the database mid-run). As root, the server runs as the Debian package's
# "postgres" user (PostgreSQL refuses to run as root).
set -euo pipefail
action="${1:?usage: pg-test-cluster.sh start|stop|restart|kill STATE_DIR}"
state="${2:?usage: pg-test-cluster.sh start|stop|restart|kill STATE_DIR}"
bindir="$(pg_config --bindir 2>/dev/null || true)"
if [ ! -x "$bindir/initdb" ]; then
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
fi
if [ ! -x "$bindir/initdb" ]; then
  echo "pg-test-cluster: no initdb found (install the postgresql package: make deps)" >&2
  exit 1
fi
run=()
if [ "$(id -u)" = 0 ]; then run=(runuser -u postgres --); fi
port=5432

start_server() {
  local dir="$1"
  "${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-k $dir -c listen_addresses='' -p $port -c fsync=off -c full_page_writes=off \
        -c max_connections=300 -c shared_buffers=32MB" start >/dev/null
}

case "$action" in
  start)
    if [ -f "$state/host" ]; then bash "$0" stop "$state" || true; fi
    mkdir -p "$state"
    dir="$(mktemp -d /tmp/clearbox-pg.XXXXXX)"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    "${run[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale -N \
      >"$state/initdb.log" 2>&1 || { cat "$state/initdb.log" >&2; exit 1; }
    start_server "$dir" || { cat "$dir/server.log" >&2; exit 1; }
    echo "$dir" >"$state/host"
    echo "$port" >"$state/port"
    echo "pg-test-cluster: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on $dir"
    ;;
  kill)
    # SIGKILL to the postmaster and every child at once, as a crash of the whole server.
    dir="$(cat "$state/host")"
    pid="$(head -1 "$dir/data/postmaster.pid" 2>/dev/null || true)"
    [ -n "$pid" ] || exit 0
    children="$(pgrep -P "$pid" || true)"
    pids="$pid $(echo $children)"
    kill -KILL $pids 2>/dev/null || true
    for _ in $(seq 1 100); do
      alive=0
      for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ "$alive" = 0 ] && break
      sleep 0.05
    done
    ;;
  restart)
    bash "$0" kill "$state"
    dir="$(cat "$state/host")"
    rm -f "$dir/data/postmaster.pid"
    start_server "$dir"
    ;;
  stop)
    [ -f "$state/host" ] || exit 0
    dir="$(cat "$state/host")"
    "${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    case "$dir" in /tmp/clearbox-pg.*) rm -rf "$dir" ;; esac
    rm -f "$state/host" "$state/port"
    ;;
  *) echo "pg-test-cluster: unknown action $action" >&2; exit 2 ;;
esac
