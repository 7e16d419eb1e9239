# shellcheck shell=bash
# Settings of the native Airflow 3 deployment started by scripts/airflow-up.sh.
#
# Sourced by airflow-up.sh and airflow-down.sh; you can also source it yourself
# to point the `airflow` CLI at the running deployment:
#
#     source scripts/airflow-env.sh && airflow dags list
#
# Knobs (environment variables, all optional):
#   AEP_AIRFLOW_HOME        AIRFLOW_HOME of the deployment        (default: <repo>/.airflow)
#   AEP_VENV                virtualenv holding airflow/aep-emulator (default: <repo>/.venv)
#   AEP_PG_HOST/PORT/USER   PostgreSQL server (trust auth)        (default: 127.0.0.1 / 5432 / postgres)
#   AEP_PG_PASSWORD         password, if the server needs one     (default: empty)
#   AEP_AIRFLOW_DB          metadata database name                (default: airflow_aep)
#   AEP_REDIS_URL           Celery broker                         (default: redis://127.0.0.1:6379/0)
#   AEP_API_HOST/PORT       api-server bind address               (default: 127.0.0.1 / 8080)
#   AEP_API_WORKERS         uvicorn workers of the api-server     (default: 1)
#   AEP_EMULATOR_HOST/PORT  AEP emulator bind address             (default: 127.0.0.1 / 8765)
#   AEP_DAGS_FOLDER         dags folder                           (default: <repo>/dags)
#   AEP_EXECUTOR            celery | local                        (default: celery; local starts no worker)
#   AEP_WORKER_CONCURRENCY  Celery worker concurrency             (default: 16)
#   AEP_WORKER_POOL         Celery pool: prefork | threads        (default: prefork, see README)
#   AEP_WORKER_LOG_PORT     worker log server port                (default: 8793; every interface, JWT: SECURITY.md)
#   AEP_TRIGGERER_LOG_PORT  triggerer log server port             (default: 8794; every interface, JWT: SECURITY.md)
#   AEP_POOL_SLOTS          slots of the Airflow pool `aep_api`   (default: 16)
#   AEP_SPECS_DIR           onboarding specs the DAG file reads   (default: <repo>/include/onboarding)
#   AEP_EMULATOR_STATE      file the emulator keeps its resources and records in, so a restart loses
#                           none (no credential: issued tokens are fetched again); mode 0600 in a 0700 folder
#                           (default: <AIRFLOW_HOME>/run/aep-emulator-state.json; --fresh-db empties it)
#   AEP_EMULATOR_COMMAND    emulator command; --host/--port are appended
#                           (default: <venv>/bin/aep-emulator serve --state $AEP_EMULATOR_STATE)
#   AEP_AIRFLOW_USER        REST API / UI user (SimpleAuthManager, role admin) (default: admin)
#   AEP_AIRFLOW_PASSWORD    its password (default: generated once by airflow-up.sh into
#                           $AEP_AIRFLOW_HOME/admin_password, mode 0600, and read from there)
#   AIRFLOW_CONN_AEP_DEFAULT   the AEP connection airflow-up.sh stores in the metadata database
#                              (default: the stored one, else the local emulator)
#   AIRFLOW_CONN_HUBSPOT_DEFAULT  the HubSpot credentials it stores (default: the emulator's demo values)
#
# Every other AIRFLOW__SECTION__KEY variable already in your environment is
# passed through to the processes, except the ones this file sets.

AEP_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AEP_REPO_ROOT

: "${AEP_AIRFLOW_HOME:=$AEP_REPO_ROOT/.airflow}"
: "${AEP_VENV:=$AEP_REPO_ROOT/.venv}"
: "${AEP_PG_HOST:=127.0.0.1}"
: "${AEP_PG_PORT:=5432}"
: "${AEP_PG_USER:=postgres}"
: "${AEP_PG_PASSWORD:=}"
: "${AEP_AIRFLOW_DB:=airflow_aep}"
: "${AEP_REDIS_URL:=redis://127.0.0.1:6379/0}"
: "${AEP_API_HOST:=127.0.0.1}"
: "${AEP_API_PORT:=8080}"
: "${AEP_API_WORKERS:=1}"
: "${AEP_EMULATOR_HOST:=127.0.0.1}"
: "${AEP_EMULATOR_PORT:=8765}"
: "${AEP_DAGS_FOLDER:=$AEP_REPO_ROOT/dags}"
: "${AEP_EXECUTOR:=celery}"
: "${AEP_WORKER_CONCURRENCY:=16}"
: "${AEP_WORKER_LOG_PORT:=8793}"
: "${AEP_TRIGGERER_LOG_PORT:=8794}"
: "${AEP_SPECS_DIR:=$AEP_REPO_ROOT/include/onboarding}"
: "${AEP_EMULATOR_STATE:=$AEP_AIRFLOW_HOME/run/aep-emulator-state.json}"
: "${AEP_EMULATOR_COMMAND:=$AEP_VENV/bin/aep-emulator serve --state $AEP_EMULATOR_STATE}"
: "${AEP_WORKER_POOL:=prefork}"
: "${AEP_POOL_SLOTS:=16}"
: "${AEP_AIRFLOW_USER:=admin}"
# No default password: airflow-up.sh generates one (kept beside secrets.env, git-ignored).
if [[ -z "${AEP_AIRFLOW_PASSWORD:-}" && -f "$AEP_AIRFLOW_HOME/admin_password" ]]; then
    AEP_AIRFLOW_PASSWORD="$(<"$AEP_AIRFLOW_HOME/admin_password")"
fi
: "${AEP_AIRFLOW_PASSWORD:=}"
export AEP_AIRFLOW_HOME AEP_VENV AEP_PG_HOST AEP_PG_PORT AEP_PG_USER AEP_PG_PASSWORD AEP_AIRFLOW_DB \
    AEP_REDIS_URL AEP_API_HOST AEP_API_PORT AEP_API_WORKERS AEP_EMULATOR_HOST AEP_EMULATOR_PORT \
    AEP_DAGS_FOLDER AEP_WORKER_CONCURRENCY AEP_WORKER_POOL AEP_POOL_SLOTS AEP_AIRFLOW_USER \
    AEP_AIRFLOW_PASSWORD AEP_EXECUTOR AEP_WORKER_LOG_PORT AEP_TRIGGERER_LOG_PORT AEP_SPECS_DIR AEP_EMULATOR_STATE AEP_EMULATOR_COMMAND

# Where the deployment keeps its own bookkeeping.
AEP_LOG_DIR="$AEP_AIRFLOW_HOME/logs"
AEP_RUN_DIR="$AEP_AIRFLOW_HOME/run"
AEP_API_URL="http://$AEP_API_HOST:$AEP_API_PORT"
AEP_EMULATOR_URL="http://$AEP_EMULATOR_HOST:$AEP_EMULATOR_PORT"
export AEP_LOG_DIR AEP_RUN_DIR AEP_API_URL AEP_EMULATOR_URL

# Put the virtualenv first so `airflow`, `celery` and `aep-emulator` are the project's.
case ":$PATH:" in
    *":$AEP_VENV/bin:"*) ;;
    *) export PATH="$AEP_VENV/bin:$PATH" ;;
esac

_aep_pg_auth="$AEP_PG_USER"
if [[ -n "$AEP_PG_PASSWORD" ]]; then _aep_pg_auth="$AEP_PG_USER:$AEP_PG_PASSWORD"; fi
_aep_pg_dsn="$_aep_pg_auth@$AEP_PG_HOST:$AEP_PG_PORT/$AEP_AIRFLOW_DB"

export AIRFLOW_HOME="$AEP_AIRFLOW_HOME"
export AIRFLOW__CORE__DAGS_FOLDER="$AEP_DAGS_FOLDER"
export AIRFLOW__CORE__PLUGINS_FOLDER="$AEP_REPO_ROOT/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
case "$AEP_EXECUTOR" in
    celery) export AIRFLOW__CORE__EXECUTOR=CeleryExecutor ;;
    local) export AIRFLOW__CORE__EXECUTOR=LocalExecutor ;;
    *) echo "AEP_EXECUTOR must be celery or local, not '$AEP_EXECUTOR'" >&2; return 1 2>/dev/null || exit 1 ;;
esac
# 2 cores: the scheduler may have 32 task instances in flight, 16 of them per DAG,
# which is what the worker (concurrency 16) and the `aep_api` pool (16 slots) take.
export AIRFLOW__CORE__PARALLELISM=32
export AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG=16
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="$AEP_API_URL/execution/"
export AIRFLOW__CORE__AUTH_MANAGER=airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="$AEP_AIRFLOW_USER:admin"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$AEP_AIRFLOW_HOME/simple_auth_manager_passwords.json"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="postgresql+psycopg2://$_aep_pg_dsn"
export AIRFLOW__CELERY__BROKER_URL="$AEP_REDIS_URL"
export AIRFLOW__CELERY__RESULT_BACKEND="db+postgresql://$_aep_pg_dsn"
export AIRFLOW__CELERY__WORKER_CONCURRENCY="$AEP_WORKER_CONCURRENCY"
export AIRFLOW__CELERY__POOL="$AEP_WORKER_POOL"
# The worker imports the onboarding's code once, so that a task's DAG-file parse does not (85 % of a task
# process's CPU went there): include/aep_onboarding/celery_config.py says what is measured and what it changes.
export AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=aep_onboarding.celery_config.CELERY_CONFIG
# New DAG files show up within seconds; an edited spec within 30 s (each DAG file is parsed again every 30 s,
# Airflow's default: at 10 s the DAG processor took a fifth of a core of this 2-core machine the whole time).
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=5
export AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL=30
# A task starts 0.2 s after its upstream ended instead of 0.8 s (median, one-object onboarding on the deployment):
# an idle scheduler looks again after 0.25 s instead of Airflow's 1 s, for about 4 % more of a core while idle.
export AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME=0.25
export AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES=1
# Faults of the deployment itself (docs/deployment.md, "What happens when ..."): a task whose worker died
# (OOM kill, node drain) stops heartbeating every 5 s ([workers] min_heartbeat_interval) and is
# failed, then retried, 20 s later instead of 300 s; the scheduler looks every 5 s (default 10).
# A restarted scheduler adopts the running tasks of its dead predecessor within 15 s (default 300),
# a restarted triggerer takes over the triggers of a dead one within 15 s (default 30).
# A task queued to a worker that died before starting it is requeued after 60 s in queued
# (default 600), checked every 15 s (default 120). Celery keeps its defaults: task_acks_late=True
# and the Redis visibility_timeout of 24 h, so the message of a killed task is not redelivered
# while Airflow retries the task itself (a shorter timeout would also redeliver the message of every
# task running longer than it: see the Celery provider's notes on task_acks_late).
export AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT=20
export AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL=5
export AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL=15
export AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT=60
export AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL=15
export AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD=15
export AIRFLOW__API__HOST="$AEP_API_HOST"
export AIRFLOW__API__PORT="$AEP_API_PORT"
export AIRFLOW__API__WORKERS="$AEP_API_WORKERS"
export AIRFLOW__API__BASE_URL="$AEP_API_URL"
export AIRFLOW__LOGGING__BASE_LOG_FOLDER="$AEP_LOG_DIR"
export AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT="$AEP_WORKER_LOG_PORT"
export AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT="$AEP_TRIGGERER_LOG_PORT"
unset _aep_pg_auth _aep_pg_dsn

# The connections aep_default and hubspot_default live in the metadata database (airflow-up.sh stores
# them, secrets encrypted with the deployment's Fernet key), so the Connections page shows them and its
# Test button works. AIRFLOW_CONN_AEP_DEFAULT / AIRFLOW_CONN_HUBSPOT_DEFAULT, when set, are what
# airflow-up.sh stores (replacing the stored one); they are not passed on to the components, where
# they would shadow the stored connection. Unset, the stored connection is kept (edits made in the UI
# survive a restart), or created pointing at the local emulator. Port 0: see connection_form.py.
if [[ -n "${AIRFLOW_CONN_AEP_DEFAULT:-}" ]]; then
    AEP_CONN_AEP_DEFAULT_JSON="$AIRFLOW_CONN_AEP_DEFAULT"; AEP_CONN_AEP_DEFAULT_GIVEN=1
elif [[ -z "${AEP_CONN_AEP_DEFAULT_JSON:-}" ]]; then
    AEP_CONN_AEP_DEFAULT_JSON="{\"conn_type\": \"adobe_experience_platform\", \"login\": \"demo-client\", \"password\": \"demo-secret\", \"host\": \"$AEP_EMULATOR_URL\", \"port\": 0, \"extra\": {\"ims_host\": \"$AEP_EMULATOR_URL\", \"org_id\": \"DEMO0000000000000000000@AdobeOrg\", \"sandbox\": \"prod\"}}"
fi
# The HubSpot credentials the onboarding specs use; the emulator's simulated HubSpot accepts these demo values.
if [[ -n "${AIRFLOW_CONN_HUBSPOT_DEFAULT:-}" ]]; then
    AEP_CONN_HUBSPOT_DEFAULT_JSON="$AIRFLOW_CONN_HUBSPOT_DEFAULT"; AEP_CONN_HUBSPOT_DEFAULT_GIVEN=1
elif [[ -z "${AEP_CONN_HUBSPOT_DEFAULT_JSON:-}" ]]; then
    AEP_CONN_HUBSPOT_DEFAULT_JSON='{"conn_type": "generic", "login": "hubspot-demo-client", "password": "hubspot-demo-secret", "port": 0, "extra": {"access_token": "hubspot-demo-access", "refresh_token": "hubspot-demo-refresh"}}'
fi
export AEP_CONN_AEP_DEFAULT_JSON AEP_CONN_HUBSPOT_DEFAULT_JSON
export AEP_CONN_AEP_DEFAULT_GIVEN="${AEP_CONN_AEP_DEFAULT_GIVEN:-0}" AEP_CONN_HUBSPOT_DEFAULT_GIVEN="${AEP_CONN_HUBSPOT_DEFAULT_GIVEN:-0}"
unset AIRFLOW_CONN_AEP_DEFAULT AIRFLOW_CONN_HUBSPOT_DEFAULT
# The Connections page's Test button (off by default in Airflow 3): this deployment is local.
export AIRFLOW__CORE__TEST_CONNECTION=Enabled

# Secrets generated once by airflow-up.sh (JWT secret, api secret key, Fernet key):
# every component must share them, so they live in AIRFLOW_HOME, mode 0600.
if [[ -f "$AEP_AIRFLOW_HOME/secrets.env" ]]; then
    # shellcheck disable=SC1091
    source "$AEP_AIRFLOW_HOME/secrets.env"
fi
