#!/usr/bin/env bash
# Starts what the scale-out shape and its tests need on this machine: PostgreSQL on 127.0.0.1:5432
# (role and database "sluice", password "sluice") and Redis on 127.0.0.1:6379.
# Idempotent: whatever already answers is left alone. Installing and creating things needs root.
# Kafka: scripts/kafka.sh (docs/kafka.md).
set -euo pipefail

pg_host=127.0.0.1
pg_port=5432
redis_host=127.0.0.1
redis_port=6379
wait_seconds=30

say() { echo "services: $*"; }
fail() {
  echo "services: $*" >&2
  exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# .ci/run sets SLUICE_APT_UPDATED=true after its own apt-get update, so it runs once.
apt_updated=${SLUICE_APT_UPDATED:-false}
apt_install() {
  is_root || fail "$* missing; run this script as root to install it (apt-get install -y $*)"
  if [ "$apt_updated" = false ]; then
    say "apt-get update"
    apt-get update -qq
    apt_updated=true
  fi
  say "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

wait_until() {
  local what=$1
  shift
  for _ in $(seq 1 "$wait_seconds"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  fail "$what did not answer within ${wait_seconds}s"
}

# --- PostgreSQL -------------------------------------------------------------------------------

pg_answers() { command -v pg_isready >/dev/null && pg_isready -q -h "$pg_host" -p "$pg_port"; }
sluice_login_works() { PGPASSWORD=sluice psql -h "$pg_host" -p "$pg_port" -U sluice -d sluice -tAc "select 1" >/dev/null 2>&1; }
# From /, so psql does not complain that the postgres user cannot enter the working directory.
as_postgres() { (cd / && runuser -u postgres -- "$@"); }

start_postgres() {
  if ! command -v pg_ctlcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install postgresql
  fi
  is_root || fail "PostgreSQL is installed but not running; run this script as root to start it"
  local version
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$version main"; then
    say "creating PostgreSQL $version cluster main on port $pg_port"
    pg_createcluster --port "$pg_port" "$version" main >/dev/null
  fi
  say "starting PostgreSQL $version (cluster main)"
  pg_ctlcluster "$version" main start
  wait_until "PostgreSQL on $pg_host:$pg_port" pg_isready -q -h "$pg_host" -p "$pg_port"
}

sluice_can_create_databases() {
  [ "$(PGPASSWORD=sluice psql -h "$pg_host" -p "$pg_port" -U sluice -d sluice -tAc "select rolcreatedb from pg_roles where rolname = current_user" 2>/dev/null)" = "t" ]
}

ensure_sluice_database() {
  if sluice_login_works && sluice_can_create_databases; then return 0; fi
  is_root || fail "PostgreSQL answers, but role/database sluice is missing; run this script as root to create them"
  if [ "$(as_postgres psql -p "$pg_port" -tAc "select 1 from pg_roles where rolname = 'sluice'")" != "1" ]; then
    say "creating role sluice"
    # createdb: benches and the stack give each run a fresh database of its own (bench/src/event-store).
    as_postgres psql -p "$pg_port" -q -c "create role sluice login createdb password 'sluice'"
  else
    # The role exists but the login failed: make the password the documented one.
    as_postgres psql -p "$pg_port" -q -c "alter role sluice login createdb password 'sluice'"
  fi
  if [ "$(as_postgres psql -p "$pg_port" -tAc "select 1 from pg_database where datname = 'sluice'")" != "1" ]; then
    say "creating database sluice owned by sluice"
    as_postgres createdb -p "$pg_port" -O sluice sluice
  fi
  sluice_login_works || fail "cannot log in as sluice on $pg_host:$pg_port (check pg_hba.conf allows scram-sha-256 on 127.0.0.1)"
}

if pg_answers; then
  say "PostgreSQL already answers on $pg_host:$pg_port"
else
  start_postgres
fi
ensure_sluice_database
say "PostgreSQL ready: postgres://sluice:sluice@$pg_host:$pg_port/sluice"

# --- Redis ------------------------------------------------------------------------------------

redis_answers() { command -v redis-cli >/dev/null && [ "$(redis-cli -h "$redis_host" -p "$redis_port" ping 2>/dev/null)" = "PONG" ]; }

if redis_answers; then
  say "Redis already answers on $redis_host:$redis_port"
else
  command -v redis-server >/dev/null || apt_install redis-server
  # Package scripts may have started it (outside containers); only start one when still silent.
  if ! redis_answers; then
    say "starting Redis on $redis_host:$redis_port"
    # A development and CI cache: no snapshots, so nothing is written into the working directory.
    redis-server --daemonize yes --bind "$redis_host" --port "$redis_port" --save "" --appendonly no >/dev/null
    wait_until "Redis on $redis_host:$redis_port" redis_answers
  fi
fi
say "Redis ready: redis://$redis_host:$redis_port"
