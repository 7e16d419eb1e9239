#!/usr/bin/env bash
# Restart the PostgreSQL server holding the metadata database, then wait until it answers.
#
#   scripts/postgres-restart.sh [--timeout SECONDS]
#
# Runs $AEP_PG_RESTART_COMMAND when set (e.g. "docker restart postgres" or
# "systemctl restart postgresql"); otherwise, on a Debian/Ubuntu host with exactly one
# cluster, `pg_ctlcluster --skip-systemctl-redirect <version> main restart`. Every
# database of that server restarts, not only this deployment's. Prints
# "restarting postgresql at <epoch seconds>" before and "restarted postgresql at
# <epoch seconds>" once it answers again.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/airflow-env.sh
source "$SCRIPT_DIR/airflow-env.sh"
# shellcheck source=scripts/_deployment-lib.sh
source "$SCRIPT_DIR/_deployment-lib.sh"

TIMEOUT=60
while [[ $# -gt 0 ]]; do
    case "$1" in
        --timeout) TIMEOUT="$2"; shift ;;
        --timeout=*) TIMEOUT="${1#*=}" ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) aep_die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done

echo "restarting postgresql at $(date +%s.%N)"
if [[ -n "${AEP_PG_RESTART_COMMAND:-}" ]]; then
    bash -c "$AEP_PG_RESTART_COMMAND"
elif command -v pg_ctlcluster >/dev/null && [[ -d /etc/postgresql ]]; then
    mapfile -t versions < <(ls /etc/postgresql)
    [[ ${#versions[@]} -eq 1 ]] || aep_die "found PostgreSQL clusters ${versions[*]} under /etc/postgresql; say which to restart with AEP_PG_RESTART_COMMAND"
    pg_ctlcluster --skip-systemctl-redirect "${versions[0]}" main restart
else
    aep_die "no pg_ctlcluster here: set AEP_PG_RESTART_COMMAND to the command that restarts PostgreSQL"
fi

deadline=$((SECONDS + TIMEOUT))
until "$AEP_VENV/bin/python" - <<'PY' 2>/dev/null
import os, psycopg2
psycopg2.connect(host=os.environ["AEP_PG_HOST"], port=os.environ["AEP_PG_PORT"], user=os.environ["AEP_PG_USER"],
                 password=os.environ.get("AEP_PG_PASSWORD") or None, dbname=os.environ["AEP_AIRFLOW_DB"],
                 connect_timeout=3).close()
PY
do
    ((SECONDS < deadline)) || aep_die "PostgreSQL at $AEP_PG_HOST:$AEP_PG_PORT does not answer ${TIMEOUT}s after the restart"
    sleep 0.5
done
echo "restarted postgresql at $(date +%s.%N)"
