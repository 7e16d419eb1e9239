#!/usr/bin/env bash
# Start a native Airflow 3 deployment (CeleryExecutor) plus the AEP emulator.
#
#   scripts/airflow-up.sh [--fresh-db] [--without-emulator] [--timeout SECONDS]
#
#   --fresh-db          drop and recreate the metadata database and empty the
#                       emulator's state file (stops a running deployment first);
#                       same as AEP_FRESH_DB=1
#   --without-emulator  start Airflow even though the AEP emulator is not
#                       installed; same as AEP_WITHOUT_EMULATOR=1. Without this
#                       flag a missing emulator is an error.
#   --timeout SECONDS   how long to wait for the deployment to be healthy
#                       (default 240, or AEP_UP_TIMEOUT)
#
# Idempotent: components already running are left alone, missing ones are
# started (scripts/airflow-restart.sh relies on this, with AEP_SKIP_DB_SETUP=1
# to skip the database steps). PostgreSQL and Redis must be running already. Settings: see
# scripts/airflow-env.sh. Logs: .airflow/logs/<component>.log. Stop with
# scripts/airflow-down.sh.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/airflow-env.sh
source "$SCRIPT_DIR/airflow-env.sh"
# shellcheck source=scripts/_deployment-lib.sh
source "$SCRIPT_DIR/_deployment-lib.sh"
cd "$AEP_REPO_ROOT"

FRESH_DB="${AEP_FRESH_DB:-0}"
WITHOUT_EMULATOR="${AEP_WITHOUT_EMULATOR:-0}"
TIMEOUT="${AEP_UP_TIMEOUT:-240}"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --fresh-db) FRESH_DB=1 ;;
        --without-emulator) WITHOUT_EMULATOR=1 ;;
        --timeout) TIMEOUT="$2"; shift ;;
        --timeout=*) TIMEOUT="${1#*=}" ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) aep_die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done

PY="$AEP_VENV/bin/python"
[[ -x "$AEP_VENV/bin/airflow" ]] || aep_die "no airflow in $AEP_VENV (set AEP_VENV to the virtualenv holding apache-airflow[celery,postgres,redis])"

mkdir -p "$AEP_AIRFLOW_HOME" "$AEP_LOG_DIR" "$AEP_RUN_DIR"
# The emulator keeps its resources and records in $AEP_EMULATOR_STATE (default: in the run folder), mode 0600,
# and refuses a folder other users may enter (SECURITY.md): the run folder is this user's alone.
chmod 700 "$AEP_RUN_DIR"

# ---------------------------------------------------------------- pre-flight
START_EMULATOR=1
read -r -a EMULATOR_CMD <<<"$AEP_EMULATOR_COMMAND"
if ! "$PY" -c 'import aep_emulator.cli' >/dev/null 2>&1 || ! command -v "${EMULATOR_CMD[0]}" >/dev/null; then
    if [[ "$WITHOUT_EMULATOR" == 1 ]]; then
        aep_log "WARNING: the AEP emulator (aep_emulator.cli) is not installed; starting Airflow without it (--without-emulator)"
        START_EMULATOR=0
    else
        aep_die "the AEP emulator is not installed (python -c 'import aep_emulator.cli' fails in $AEP_VENV). Install the project with its emulator extra (pip install -e '.[emulator]') or pass --without-emulator to start Airflow alone."
    fi
fi

if [[ "$AEP_EXECUTOR" == celery ]] && ! "$PY" -c 'import airflow.providers.celery.executors.celery_executor_utils' >/dev/null 2>&1; then
    aep_die "the Celery executor does not import in $AEP_VENV (python -c 'import airflow.providers.celery.executors.celery_executor_utils'). With apache-airflow-providers-celery 3.26 this is Celery 5.7, which removed celery.backends.database.retry: pip install 'celery[redis]>=5.5,<5.7'"
fi

"$PY" - <<'EOF' || aep_die "cannot reach PostgreSQL at $AEP_PG_HOST:$AEP_PG_PORT as $AEP_PG_USER (is it running?)"
import os, psycopg2
psycopg2.connect(host=os.environ["AEP_PG_HOST"], port=os.environ["AEP_PG_PORT"], user=os.environ["AEP_PG_USER"],
                 password=os.environ.get("AEP_PG_PASSWORD") or None, dbname="postgres", connect_timeout=5).close()
EOF
"$PY" - <<'EOF' || aep_die "cannot reach Redis at $AEP_REDIS_URL (is it running?)"
import os, redis
redis.Redis.from_url(os.environ["AEP_REDIS_URL"], socket_connect_timeout=5).ping()
EOF

if [[ "$FRESH_DB" == 1 ]]; then
    for c in "${AEP_COMPONENTS[@]}"; do
        if aep_component_pid "$c" >/dev/null; then
            aep_log "--fresh-db: stopping the running deployment first"
            "$SCRIPT_DIR/airflow-down.sh"
            break
        fi
    done
fi

if [[ "$FRESH_DB" == 1 ]]; then rm -f "$AEP_EMULATOR_STATE" "$AEP_EMULATOR_STATE.journal"; fi

# Deployment id: kept while any component of the deployment is alive.
ANY_ALIVE=0
for c in "${AEP_COMPONENTS[@]}"; do
    if aep_component_pid "$c" >/dev/null; then ANY_ALIVE=1; fi
done
DEPLOYMENT_ID="$(aep_deployment_id || true)"
if [[ "$ANY_ALIVE" == 0 || -z "$DEPLOYMENT_ID" ]]; then
    DEPLOYMENT_ID="aep-$(date +%Y%m%d%H%M%S)-$$"
    printf '%s\n' "$DEPLOYMENT_ID" >"$AEP_RUN_DIR/deployment_id"
fi

# ---------------------------------------------------------------- config files
if [[ ! -f "$AEP_AIRFLOW_HOME/secrets.env" ]]; then
    (
        umask 077
        "$PY" - >"$AEP_AIRFLOW_HOME/secrets.env" <<'EOF'
import secrets
from cryptography.fernet import Fernet
print(f"export AIRFLOW__API_AUTH__JWT_SECRET='{secrets.token_urlsafe(48)}'")
print(f"export AIRFLOW__API__SECRET_KEY='{secrets.token_urlsafe(32)}'")
print(f"export AIRFLOW__CORE__FERNET_KEY='{Fernet.generate_key().decode()}'")
EOF
    )
fi
# shellcheck disable=SC1091
source "$AEP_AIRFLOW_HOME/secrets.env"
# The UI / REST API password: AEP_AIRFLOW_PASSWORD, else one generated once (airflow-env.sh reads it back).
if [[ -z "$AEP_AIRFLOW_PASSWORD" ]]; then
    (umask 077; "$PY" -c 'import secrets; print(secrets.token_urlsafe(18), end="")' >"$AEP_AIRFLOW_HOME/admin_password")
    AEP_AIRFLOW_PASSWORD="$(<"$AEP_AIRFLOW_HOME/admin_password")"
    export AEP_AIRFLOW_PASSWORD
fi
(
    umask 077
    "$PY" -c 'import json, os; print(json.dumps({os.environ["AEP_AIRFLOW_USER"]: os.environ["AEP_AIRFLOW_PASSWORD"]}))' \
        >"$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
)

# ---------------------------------------------------------------- database
if [[ "${AEP_SKIP_DB_SETUP:-0}" != 1 ]]; then
DB_ACTION=create
[[ "$FRESH_DB" == 1 ]] && DB_ACTION=recreate
aep_log "database $AEP_AIRFLOW_DB on $AEP_PG_HOST:$AEP_PG_PORT: $DB_ACTION"
DB_ACTION="$DB_ACTION" "$PY" - <<'EOF'
import os, psycopg2
from psycopg2 import sql
name = os.environ["AEP_AIRFLOW_DB"]
conn = psycopg2.connect(host=os.environ["AEP_PG_HOST"], port=os.environ["AEP_PG_PORT"], user=os.environ["AEP_PG_USER"],
                        password=os.environ.get("AEP_PG_PASSWORD") or None, dbname="postgres", connect_timeout=5)
conn.autocommit = True
with conn.cursor() as cur:
    if os.environ["DB_ACTION"] == "recreate":
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
    if cur.fetchone() is None:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
conn.close()
EOF

aep_log "airflow db migrate (log: $AEP_LOG_DIR/db-migrate.log)"
airflow db migrate >"$AEP_LOG_DIR/db-migrate.log" 2>&1 \
    || { tail -n 30 "$AEP_LOG_DIR/db-migrate.log" >&2; aep_die "airflow db migrate failed, see $AEP_LOG_DIR/db-migrate.log"; }
airflow pools set aep_api "$AEP_POOL_SLOTS" "Adobe Experience Platform API calls" >"$AEP_LOG_DIR/pools.log" 2>&1 \
    || { tail -n 30 "$AEP_LOG_DIR/pools.log" >&2; aep_die "creating the pool aep_api failed, see $AEP_LOG_DIR/pools.log"; }
fi

# Connections in the metadata database (see airflow-env.sh): visible and testable on the Connections page.
"$PY" "$SCRIPT_DIR/store_connections.py" >"$AEP_LOG_DIR/connections.log" 2>&1 \
    || { tail -n 30 "$AEP_LOG_DIR/connections.log" >&2; aep_die "storing the connections failed, see $AEP_LOG_DIR/connections.log"; }
# Stored: the components read them from the database, their environment does not carry the secrets.
unset AEP_CONN_AEP_DEFAULT_JSON AEP_CONN_HUBSPOT_DEFAULT_JSON

# ---------------------------------------------------------------- processes
# A failed start-up stops what it started (logs are kept) unless AEP_KEEP_ON_FAILURE=1.
STARTED_ANY=0
on_exit() {
    local status=$?
    if [[ $status -ne 0 && "$STARTED_ANY" == 1 && "${AEP_KEEP_ON_FAILURE:-0}" != 1 ]]; then
        aep_log "start-up failed: stopping the deployment (set AEP_KEEP_ON_FAILURE=1 to keep it running for inspection)"
        "$SCRIPT_DIR/airflow-down.sh" || true
    fi
    exit $status
}
trap on_exit EXIT

# <component> <port that must be free, or -> <command...>
start_component() {
    local name="$1" port="$2"; shift 2
    local pid log="$AEP_LOG_DIR/$name.log"
    if pid="$(aep_component_pid "$name")"; then
        aep_log "$name already running (pid $pid)"
        return 0
    fi
    if [[ "$port" != - ]] && aep_port_busy 127.0.0.1 "$port"; then
        aep_die "cannot start $name: port $port is in use by a process this deployment did not start"
    fi
    [[ -f "$log" ]] && mv -f "$log" "$log.1"
    printf '=== %s %s: %s\n' "$(date -Is)" "$DEPLOYMENT_ID" "$*" >"$log"
    # setsid: own session and process group, so airflow-down.sh can signal the whole tree.
    # _keep-running.sh starts the component again when it exits by itself (compose's `restart: always`).
    AEP_AIRFLOW_DEPLOYMENT="$DEPLOYMENT_ID" setsid "$SCRIPT_DIR/_keep-running.sh" "$@" >>"$log" 2>&1 </dev/null &
    pid=$!
    STARTED_ANY=1
    printf '%s %s\n' "$pid" "$(aep_proc_starttime "$pid")" >"$AEP_RUN_DIR/$name.pid"
    aep_log "started $name (pid $pid, log $log)"
}

if [[ "$START_EMULATOR" == 1 ]]; then
    # Run from the repo root so `python -m benchmarks...` style commands resolve.
    start_component aep-emulator "$AEP_EMULATOR_PORT" \
        "${EMULATOR_CMD[@]}" --host "$AEP_EMULATOR_HOST" --port "$AEP_EMULATOR_PORT"
fi
start_component api-server "$AEP_API_PORT" airflow api-server --host "$AEP_API_HOST" --port "$AEP_API_PORT"
start_component scheduler - airflow scheduler
start_component dag-processor - airflow dag-processor
start_component triggerer "$AEP_TRIGGERER_LOG_PORT" airflow triggerer
if [[ "$AEP_EXECUTOR" == celery ]]; then
    start_component celery-worker "$AEP_WORKER_LOG_PORT" airflow celery worker --concurrency "$AEP_WORKER_CONCURRENCY"
fi

# ---------------------------------------------------------------- wait until healthy
DEADLINE=$((SECONDS + TIMEOUT))

# Fails fast, pointing at the log, when a component died while we wait.
check_alive() {
    local c
    for c in "${AEP_COMPONENTS[@]}"; do
        [[ "$c" == aep-emulator && "$START_EMULATOR" == 0 ]] && continue
        [[ "$c" == celery-worker && "$AEP_EXECUTOR" != celery ]] && continue
        if ! aep_component_pid "$c" >/dev/null; then
            tail -n 40 "$AEP_LOG_DIR/$c.log" >&2 || true
            aep_die "$c exited during start-up; see $AEP_LOG_DIR/$c.log"
        fi
    done
}

if [[ "$START_EMULATOR" == 1 ]]; then
    until curl -fsS -m 3 -o /dev/null "$AEP_EMULATOR_URL/_emulator/state" 2>/dev/null; do
        check_alive
        ((SECONDS < DEADLINE)) || aep_die "timed out after ${TIMEOUT}s waiting for the AEP emulator at $AEP_EMULATOR_URL/_emulator/state; see $AEP_LOG_DIR/aep-emulator.log"
        sleep 1
    done
    aep_log "AEP emulator answers at $AEP_EMULATOR_URL"
fi

HEALTH_URL="$AEP_API_URL/api/v2/monitor/health"
last_health=""
while :; do
    check_alive
    if last_health="$(curl -fsS -m 5 "$HEALTH_URL" 2>/dev/null)"; then
        unhealthy="$(printf '%s' "$last_health" | "$PY" -c '
import json, sys
h = json.load(sys.stdin)
bad = [k for k in ("metadatabase", "scheduler", "triggerer", "dag_processor")
       if (h.get(k) or {}).get("status") != "healthy"]
print(" ".join(bad))')"
        [[ -z "$unhealthy" ]] && break
    else
        unhealthy="api-server"
    fi
    if ((SECONDS >= DEADLINE)); then
        logs=""
        for u in $unhealthy; do
            case "$u" in
                metadatabase) logs+=" $AEP_LOG_DIR/api-server.log (database $AEP_AIRFLOW_DB)" ;;
                dag_processor) logs+=" $AEP_LOG_DIR/dag-processor.log" ;;
                *) logs+=" $AEP_LOG_DIR/$u.log" ;;
            esac
        done
        aep_die "timed out after ${TIMEOUT}s waiting for $HEALTH_URL to report healthy; not healthy: $unhealthy (last answer: ${last_health:-none}); see$logs"
    fi
    sleep 2
done
aep_log "api-server, scheduler, dag-processor and triggerer healthy ($HEALTH_URL)"

# The worker has no heartbeat in /monitor/health: wait for Celery's "ready" line.
if [[ "$AEP_EXECUTOR" == celery ]]; then
    until grep -q "ready\." "$AEP_LOG_DIR/celery-worker.log" 2>/dev/null; do
        check_alive
        ((SECONDS < DEADLINE)) || aep_die "timed out after ${TIMEOUT}s waiting for the Celery worker to be ready; see $AEP_LOG_DIR/celery-worker.log"
        sleep 1
    done
    aep_log "celery worker ready (concurrency $AEP_WORKER_CONCURRENCY, pool $AEP_WORKER_POOL)"
fi

cat >&2 <<EOF
Airflow is up ($DEPLOYMENT_ID):
  UI / REST API  $AEP_API_URL   (user $AEP_AIRFLOW_USER; password: AEP_AIRFLOW_PASSWORD or $AEP_AIRFLOW_HOME/admin_password)
  AEP emulator   $( [[ "$START_EMULATOR" == 1 ]] && echo "$AEP_EMULATOR_URL" || echo "not started" )
  logs           $AEP_LOG_DIR/<component>.log
  stop with      scripts/airflow-down.sh
EOF
