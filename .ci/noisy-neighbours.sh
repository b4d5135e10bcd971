#!/usr/bin/env bash
# Other BPF users beside the test suite, as on a real machine: until killed,
#  - loads bpf/bootstrap.bpf.o through bpftool (libbpf), keeps it 100 ms,
#    unloads it, again and again: pinned under /sys/fs/bpf/noisy-neighbour-<pid>,
#    programs and maps with the same names as the tests' own; and
#  - every 2 s, reads trace_pipe for half a second (taking the lines it
#    reads, as any other reader would).
# .ci/run starts it for the test phase and kills it (by pid) afterwards.
set -u
cd "$(dirname "$0")/.."
grep -q '^[^ ]* /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf
tracing=/sys/kernel/tracing
[ -e "$tracing/trace_pipe" ] || tracing=/sys/kernel/debug/tracing
pin=/sys/fs/bpf/noisy-neighbour-$$
reader=
stop() {
  [ -n "$reader" ] && kill "$reader" 2>/dev/null
  rm -rf "$pin"
  exit 0
}
trap stop TERM INT
(
  while :; do
    sleep 2
    timeout 0.5 cat "$tracing/trace_pipe" >/dev/null 2>&1
  done
) &
reader=$!
loads=0
while :; do
  bpftool prog loadall bpf/bootstrap.bpf.o "$pin" >/dev/null 2>&1 && loads=$((loads + 1))
  sleep 0.1
  rm -rf "$pin"
done
