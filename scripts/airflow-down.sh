#!/usr/bin/env bash
# Stop the deployment started by scripts/airflow-up.sh, and nothing else.
#
#   scripts/airflow-down.sh [--grace SECONDS]
#
# Sends TERM to every process in the session of each component recorded in
# .airflow/run/*.pid (checked against its start time, so a recycled pid is
# left alone; Airflow's task processes stay in that session) and to every
# process carrying this deployment's marker variable, waits up to the grace
# period (default 20 s, or AEP_DOWN_GRACE), then sends KILL to what is left.
# Reports what it stopped. Exit status 0 when no process of the deployment is
# left, 1 otherwise. Idempotent: with nothing running it says so and exits 0.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/airflow-env.sh
source "$SCRIPT_DIR/airflow-env.sh"
# shellcheck source=scripts/_deployment-lib.sh
source "$SCRIPT_DIR/_deployment-lib.sh"

GRACE="${AEP_DOWN_GRACE:-20}"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --grace) GRACE="$2"; shift ;;
        --grace=*) GRACE="${1#*=}" ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) aep_die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done

DEPLOYMENT_ID="$(aep_deployment_id || true)"

# Components alive, in reverse start order.
declare -a NAMES=() SIDS=()
for ((i = ${#AEP_COMPONENTS[@]} - 1; i >= 0; i--)); do
    c="${AEP_COMPONENTS[$i]}"
    if pid="$(aep_component_pid "$c")"; then
        NAMES+=("$c")
        SIDS+=("$pid")
    fi
done
mapfile -t EXTRA < <(aep_marked_pids "$DEPLOYMENT_ID")

if [[ ${#NAMES[@]} -eq 0 && ${#EXTRA[@]} -eq 0 ]]; then
    aep_log "nothing to stop (no process of deployment ${DEPLOYMENT_ID:-<none>} is running)"
    rm -f "$AEP_RUN_DIR"/*.pid
    exit 0
fi

# Pids in the session of a component: setsid made its pid the session id, and
# Airflow's task processes leave the process group (setpgid) but not the session.
session_members() {
    ps -e -o pid=,sid=,stat= | awk -v s="$1" '$2 == s && $3 !~ /^Z/ { print $1 }'
}
remaining() {
    local s
    {
        for s in "${SIDS[@]}"; do session_members "$s"; done
        aep_marked_pids "$DEPLOYMENT_ID"
    } | sort -un
}

signal_all() {
    local sig="$1" s p
    for s in "${SIDS[@]}"; do kill "-$sig" -- "-$s" 2>/dev/null || true; done
    while read -r p; do
        if [[ -n "$p" ]]; then kill "-$sig" "$p" 2>/dev/null || true; fi
    done < <(remaining)
}

for i in "${!NAMES[@]}"; do
    aep_log "stopping ${NAMES[$i]} (session ${SIDS[$i]}: $(session_members "${SIDS[$i]}" | wc -l) processes)"
done
signal_all TERM

deadline=$((SECONDS + GRACE))
left="$(remaining)"
while [[ -n "$left" ]] && ((SECONDS < deadline)); do
    sleep 0.5
    left="$(remaining)"
done
if [[ -n "$left" ]]; then
    aep_log "still running after ${GRACE}s, sending KILL: $(echo $left | tr '\n' ' ')"
    signal_all KILL
    for _ in $(seq 1 20); do
        left="$(remaining)"
        [[ -z "$left" ]] && break
        sleep 0.5
    done
fi

rm -f "$AEP_RUN_DIR"/*.pid
if [[ -n "$left" ]]; then
    ps -o pid,pgid,stat,cmd -p "$(echo $left | tr ' ' ',')" >&2 || true
    aep_die "processes of deployment $DEPLOYMENT_ID still running: $(echo $left)"
fi
aep_log "stopped: ${NAMES[*]:-<no component>} (deployment $DEPLOYMENT_ID); no process of it is left"
