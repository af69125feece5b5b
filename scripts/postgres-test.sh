#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the workspace tests, from Debian's packages:
#   scripts/postgres-test.sh start DIR PORT   -> prints the database URL on stdout
#   scripts/postgres-test.sh stop DIR
# Installs `postgresql` with apt when it is missing and we are root. The cluster listens on
# 127.0.0.1:PORT and on a unix socket in DIR only, runs as a non-root user (postgres when we are
# root), trusts local connections (it is a test cluster that lives in DIR and is deleted after).
set -euo pipefail
cmd=${1:?usage: postgres-test.sh start|stop DIR [PORT]}
dir=${2:?usage: postgres-test.sh start|stop DIR [PORT]}
port=${3:-55432}
bindir=""
for v in 17 16 15 14 13; do
  if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then bindir="/usr/lib/postgresql/$v/bin"; break; fi
done
if [ -z "$bindir" ] && command -v initdb >/dev/null; then bindir=$(dirname "$(command -v initdb)"); fi
if [ -z "$bindir" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "postgres-test: installing postgresql" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    for v in 17 16 15 14 13; do
      if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then bindir="/usr/lib/postgresql/$v/bin"; break; fi
    done
  fi
fi
if [ -z "$bindir" ]; then echo "postgres-test: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 3; fi
run() {  # run as a non-root user: PostgreSQL refuses to run as root
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}
case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    chmod 700 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      run "$bindir/initdb" -D "$dir/data" -U movescreen --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 4; }
    fi
    run "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 5; }
    run "$bindir/createdb" -h 127.0.0.1 -p "$port" -U movescreen movescreen_test 2>/dev/null || true
    echo "postgresql://movescreen@127.0.0.1:$port/movescreen_test"
    ;;
  stop)
    run "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: postgres-test.sh start|stop DIR [PORT]" >&2; exit 2 ;;
esac
