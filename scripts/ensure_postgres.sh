#!/usr/bin/env bash
# Makes a PostgreSQL server reachable on 127.0.0.1:5432 with a login role
# citysettle/citysettle that may create databases. In order of preference: use the one
# that is already listening; start the machine's installed cluster; install PostgreSQL
# from Debian's packages and start it. Idempotent.
set -euo pipefail
HOST=127.0.0.1
PORT=5432

have_server() { pg_isready -q -h "$HOST" -p "$PORT" 2>/dev/null; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v pg_isready >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  if ! have_server 2>/dev/null; then
    echo "ensure_postgres: installing PostgreSQL from Debian packages" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
  fi
fi

if ! have_server; then
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  echo "ensure_postgres: starting cluster $version/main" >&2
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 60); do have_server && break; sleep 0.5; done
  have_server || { echo "ensure_postgres: PostgreSQL did not come up" >&2; exit 1; }
fi

# The role the tests and benchmarks use. Created through the local socket as the
# postgres OS user, which works under Debian's default peer authentication.
if ! PGPASSWORD=citysettle psql -h "$HOST" -p "$PORT" -U citysettle -d postgres -tAc 'select 1' >/dev/null 2>&1; then
  sql="DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'citysettle') THEN
      CREATE ROLE citysettle LOGIN CREATEDB PASSWORD 'citysettle';
    ELSE
      ALTER ROLE citysettle LOGIN CREATEDB PASSWORD 'citysettle';
    END IF; END \$\$;"
  if psql -h "$HOST" -p "$PORT" -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    psql -q -h "$HOST" -p "$PORT" -U postgres -d postgres -c "$sql"
  else
    as_root runuser -u postgres -- psql -q -d postgres -c "$sql"
  fi
fi
echo "ensure_postgres: ready on $HOST:$PORT" >&2
