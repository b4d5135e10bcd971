#!/usr/bin/env bash
# Rebuild every bpf/*.bpf.c into the committed bpf/*.bpf.o with clang-19.
#   bash bpf/build.sh            rebuild objects
#   bash bpf/build.sh --check    rebuild, fail if any committed object differs
# clang's BTF type order depends on the build directory's path (not only on
# the sources), so objects are always built in one fixed directory: then a
# clone anywhere rebuilds byte-identical objects.
# bpf/vmlinux.h is committed and used as is (never regenerated here, so the
# --check stays deterministic on any kernel). It comes from tsbpf's own
# BTF-to-C dumper; to regenerate it from the running kernel's BTF:
#   npm run build && node scripts/gen-vmlinux-h.mjs [BTF file]
# then rebuild the objects with this script and commit header and objects together.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
CLANG=${CLANG:-clang-19}
STRIP=${STRIP:-llvm-strip-19}
build=/tmp/tsbpf-bpf-build/bpf
rm -rf "$build" && mkdir -p "$build"
cp "$here"/*.c "$here"/*.h "$build"/
cd "$build"
# -I for <asm/types.h> via <linux/bpf.h> on Debian's multiarch layout.
CFLAGS=(-g -O2 -target bpf -D__TARGET_ARCH_x86 -I. -I/usr/include/x86_64-linux-gnu)
status=0
for src in *.bpf.c; do
  obj="${src%.c}.o"
  "$CLANG" "${CFLAGS[@]}" -c "$src" -o "$obj"
  "$STRIP" -g "$obj"
  if [ "${1:-}" = "--check" ]; then
    if cmp -s "$obj" "$here/$obj"; then echo "ok       $obj"
    else echo "DIFFERS  $obj (rebuild with: npm run build:bpf)"; status=1; fi
  else
    cp "$obj" "$here/$obj"
  fi
done
exit $status
