# Shared by the bench scripts that start processes (soak.sh, pair.sh,
# multiregion.sh); sourced, not run. The script sets `pids` (the processes
# it started, each the leader of its own process group) and defines `die`.

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
