# shellcheck shell=bash
# Helpers shared by airflow-up.sh and airflow-down.sh (process bookkeeping).
#
# Every process airflow-up.sh starts gets a session of its own (setsid), so its
# pid is also its session id, and the environment variable
# AEP_AIRFLOW_DEPLOYMENT=<id of this deployment>. The pid file
# <run dir>/<component>.pid holds "<pid> <start time in clock ticks>" so a
# recycled pid is never mistaken for ours. Airflow runs each task in a process
# group of its own (setpgid) but in the same session, so "all processes of the
# session" is the whole tree of a component. The marker variable is a second net
# (it is unreadable in processes that rewrote their environ block with
# setproctitle, so it never is the only one).

# Components in start order; airflow-down.sh stops them in reverse order.
AEP_COMPONENTS=(aep-emulator api-server scheduler dag-processor triggerer celery-worker)

aep_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
aep_die() { printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

# Start time (field 22 of /proc/<pid>/stat, clock ticks since boot) or nothing.
aep_proc_starttime() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
    # The command name (field 2) may hold spaces: cut after its closing parenthesis.
    stat="${stat##*) }"
    # shellcheck disable=SC2086
    set -- $stat
    printf '%s' "${20}"
}

# Prints the pid of a component if the process recorded for it is still alive.
aep_component_pid() {
    local file="$AEP_RUN_DIR/$1.pid" pid start
    [[ -f "$file" ]] || return 1
    read -r pid start <"$file" || return 1
    [[ -n "$pid" && -d "/proc/$pid" ]] || return 1
    [[ "$(aep_proc_starttime "$pid")" == "$start" ]] || return 1
    printf '%s' "$pid"
}

aep_deployment_id() {
    [[ -f "$AEP_RUN_DIR/deployment_id" ]] && cat "$AEP_RUN_DIR/deployment_id"
}

# Pids of every live process carrying AEP_AIRFLOW_DEPLOYMENT=<id> in its environment.
aep_marked_pids() {
    local id="$1" env_file pid
    [[ -n "$id" ]] || return 0
    for env_file in /proc/[0-9]*/environ; do
        pid="${env_file#/proc/}"
        pid="${pid%/environ}"
        [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
        if grep -qzxF "AEP_AIRFLOW_DEPLOYMENT=$id" "$env_file" 2>/dev/null; then
            # Skip zombies: they are gone already, only waiting for their parent.
            [[ "$(aep_proc_state "$pid")" == "Z" ]] && continue
            printf '%s\n' "$pid"
        fi
    done
}

aep_proc_state() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
    stat="${stat##*) }"
    printf '%s' "${stat%% *}"
}

# True if something accepts TCP connections on host:port.
aep_port_busy() {
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# Live pids of a session (a component's whole tree: setsid made its pid the session id).
aep_session_members() {
    ps -e -o pid=,sid=,stat= | awk -v s="$1" '$2 == s && $3 !~ /^Z/ { print $1 }'
}
