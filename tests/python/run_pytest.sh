#!/usr/bin/env bash
# Runs a command (pytest) and, when it is still running after LIMIT seconds (hung in a test or
# at interpreter exit), prints the native stacks of it and of every process it started (gdb),
# then its Python stacks (SIGUSR1: faulthandler, registered in conftest.py), and kills it: the
# tail of a CI log then says where it stuck instead of ctest's bare timeout.
#   usage: run_pytest.sh LIMIT_S COMMAND...
set -u
limit=$1
shift
# A shell starts background commands with SIGINT ignored; the Ctrl-C tests need it back.
env --default-signal=INT "$@" &
pid=$!

descendants() {
  local kid
  for kid in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    echo "$kid"
    descendants "$kid"
  done
}

(
  sleep "$limit" </dev/null >/dev/null 2>&1  # not holding ctest's output pipe open
  kill -0 "$pid" 2>/dev/null || exit 0
  echo "==== still running after $limit s: the stacks of it and its processes, then it is killed ===="
  procs="$pid $(descendants "$pid")"
  for p in $procs; do
    echo "---- native threads of pid $p: $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | cut -c1-300) ----"
    if command -v gdb >/dev/null; then
      timeout 120 gdb -p "$p" -batch -nx -ex "thread apply all bt 25" 2>&1 | tail -c 60000
    else
      echo "(no gdb on this machine)"
    fi
  done
  echo "---- Python threads of pid $pid ----"
  kill -USR1 "$pid"
  sleep 3
  echo "==== hung: still running after $limit s (stacks above) ===="
  kill -9 $procs
) &
watchdog=$!
wait "$pid"
rc=$?
kill "$watchdog" 2>/dev/null
exit "$rc"
