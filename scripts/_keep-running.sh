#!/usr/bin/env bash
# Keep one component of the native deployment running: what `restart: always` does in
# docker-compose.yaml and Restart=always in systemd. airflow-up.sh starts every component
# through this (`_keep-running.sh <command...>`, the session leader of the component).
#
# - TERM/INT: passed on to the component, which is not restarted; exits when it has.
# - The component exits by itself (e.g. the scheduler and the dag-processor exit when the
#   metadata database restarts under them): it is started again after a delay that doubles
#   from 2 s up to 60 s while it keeps failing, back to 2 s after 60 s of running.
# - It exits within its first 20 s of the first start: a start-up error, not restarted, so
#   airflow-up.sh reports it at once.
# - SIGKILL of the whole session (scripts/airflow-restart.sh --kill, the OOM killer, a lost
#   node) takes this wrapper down with the component: nothing restarts it by itself.
set -u

child=0
stopping=0
on_stop() {
    stopping=1
    if [[ "$child" != 0 ]]; then kill -TERM "$child" 2>/dev/null || true; fi
}
trap on_stop TERM INT

delay=2
first=1
while :; do
    started=$SECONDS
    "$@" &
    child=$!
    while :; do
        wait "$child"
        status=$?
        # `wait` also returns when a trapped signal arrives: wait again until the child is gone.
        kill -0 "$child" 2>/dev/null || break
    done
    child=0
    ((stopping)) && exit "$status"
    ran=$((SECONDS - started))
    if ((first && ran < 20)); then
        printf '=== %s exited with status %s %ss after its start: a start-up error, not restarted\n' \
            "$(date -Is)" "$status" "$ran"
        exit "$status"
    fi
    first=0
    ((ran >= 60)) && delay=2
    printf '=== %s exited with status %s after %ss; starting it again in %ss: %s\n' \
        "$(date -Is)" "$status" "$ran" "$delay" "$*"
    sleep "$delay" &
    child=$!
    wait "$child" 2>/dev/null
    child=0
    ((stopping)) && exit 0
    delay=$((delay * 2 > 60 ? 60 : delay * 2))
done
