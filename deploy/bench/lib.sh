# Shared by the bench scripts that start processes (soak.sh, pair.sh,
# multiregion.sh); sourced, not run. The script sets `work` (its temporary
# directory), `pids=()` and `ok=0` (1 once it succeeded), and defines `die`.

# start NAME CMD...: runs CMD in a process group of its own (setsid execs
# it, so $! is CMD's pid, appended to pids), output in $work/NAME.log.
start() {
  local name="$1"; shift
  setsid "$@" >"$work/$name.log" 2>&1 &
  pids+=("$!")
}

# stop_all: TERM to every process group in pids, up to 10 s for them to
# leave, then KILL to what is left.
stop_all() {
  local pid alive
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null; done
}

# wait_for SECONDS WHAT CMD...: retries CMD every 0.2 s until it succeeds,
# or dies naming WHAT after SECONDS.
wait_for() {
  local secs="$1" what="$2"; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$end" ] || die "timed out after ${secs}s waiting for $what"
    sleep 0.2
  done
}

# end_work NAME: removes $work after a success; otherwise keeps it and
# shows the end of its logs.
end_work() {
  if [ "$ok" = 1 ]; then
    rm -rf "$work"
  else
    echo "$1: failed or interrupted; logs kept in $work" >&2
    tail -n 5 "$work"/*.log >&2 2>/dev/null
  fi
}
