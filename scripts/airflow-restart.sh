#!/usr/bin/env bash
# Restart one component of the deployment started by scripts/airflow-up.sh.
#
#   scripts/airflow-restart.sh <component> [--kill] [--down SECONDS] [--grace SECONDS]
#
#   <component>     aep-emulator, api-server, scheduler, dag-processor, triggerer
#                   or celery-worker
#   --kill          SIGKILL every process of the component at once - its process
#                   group and the task processes that left it - as the OOM killer
#                   or a lost node does, instead of TERM and a grace period
#   --down SECONDS  stay down that long before starting again (an outage; default 0)
#   --grace SECONDS how long TERM may take before KILL (default 20)
#
# Then starts it again through airflow-up.sh (which starts only what is missing and
# leaves the database alone here) and waits until the deployment is healthy. The
# emulator keeps its resources across the restart (its --state file). Prints
# "stopped <component> at <epoch seconds>", "starting ..." and, once the deployment
# is healthy again, "started ..." so a caller can time the outage. Exit status 0
# when the deployment is healthy again. See docs/deployment.md, "What happens when ...".
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/airflow-env.sh
source "$SCRIPT_DIR/airflow-env.sh"
# shellcheck source=scripts/_deployment-lib.sh
source "$SCRIPT_DIR/_deployment-lib.sh"

COMPONENT="" KILL=0 DOWN=0 GRACE=20
while [[ $# -gt 0 ]]; do
    case "$1" in
        --kill) KILL=1 ;;
        --down) DOWN="$2"; shift ;;
        --down=*) DOWN="${1#*=}" ;;
        --grace) GRACE="$2"; shift ;;
        --grace=*) GRACE="${1#*=}" ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) aep_die "unknown argument: $1 (see --help)" ;;
        *) [[ -z "$COMPONENT" ]] || aep_die "one component at a time (got $COMPONENT and $1)"; COMPONENT="$1" ;;
    esac
    shift
done
[[ -n "$COMPONENT" ]] || aep_die "name the component to restart: ${AEP_COMPONENTS[*]}"
[[ " ${AEP_COMPONENTS[*]} " == *" $COMPONENT "* ]] || aep_die "unknown component '$COMPONENT'; one of: ${AEP_COMPONENTS[*]}"

if pid="$(aep_component_pid "$COMPONENT")"; then
    if [[ "$KILL" == 1 ]]; then
        kill -KILL -- "-$pid" 2>/dev/null || true
        for p in $(aep_session_members "$pid"); do kill -KILL "$p" 2>/dev/null || true; done
    else
        kill -TERM -- "-$pid" 2>/dev/null || true
        deadline=$((SECONDS + GRACE))
        while [[ -n "$(aep_session_members "$pid")" ]] && ((SECONDS < deadline)); do sleep 0.2; done
        for p in $(aep_session_members "$pid"); do kill -KILL "$p" 2>/dev/null || true; done
    fi
    for _ in $(seq 1 50); do
        [[ -z "$(aep_session_members "$pid")" ]] && break
        sleep 0.1
    done
    left="$(aep_session_members "$pid")"
    [[ -z "$left" ]] || aep_die "$COMPONENT (session $pid) still has processes: $(echo $left)"
    echo "stopped $COMPONENT at $(date +%s.%N) ($([[ "$KILL" == 1 ]] && echo SIGKILL || echo TERM), session $pid)"
else
    aep_log "$COMPONENT was not running"
fi
rm -f "$AEP_RUN_DIR/$COMPONENT.pid"

if [[ "$DOWN" != 0 ]]; then
    aep_log "$COMPONENT stays down for ${DOWN}s"
    sleep "$DOWN"
fi
echo "starting $COMPONENT at $(date +%s.%N)"
AEP_SKIP_DB_SETUP=1 AEP_KEEP_ON_FAILURE=1 "$SCRIPT_DIR/airflow-up.sh"
echo "started $COMPONENT at $(date +%s.%N) (deployment healthy)"
