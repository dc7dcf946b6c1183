#!/bin/sh
# `make bench-fleet`: SSH round trips. benchmarks/run_fleet_bench.py links this script as ssh, sftp and scp
# and points ansible's ssh connection at them (ANSIBLE_SSH_EXECUTABLE, ANSIBLE_SFTP_EXECUTABLE,
# ANSIBLE_SCP_EXECUTABLE). Each invocation is one round trip to one host (a command, or a file transfer,
# over the ControlPersist master when there is one): it appends one line, the program and its arguments
# (newlines folded), to $FLEET_BENCH_SSH_LOG and runs the real client.
prog=$(basename "$0")
if [ -n "${FLEET_BENCH_SSH_LOG:-}" ]; then
    line=$(printf '%s ' "$prog" "$@" | tr '\n' ' ')
    printf '%s\n' "$line" >> "$FLEET_BENCH_SSH_LOG"
fi
exec "/usr/bin/$prog" "$@"
