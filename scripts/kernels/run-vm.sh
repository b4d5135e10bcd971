#!/usr/bin/env bash
# Boots a kernel fetched by fetch-kernel.sh under QEMU (software emulation:
# no /dev/kvm here) and runs RESULTS/cmd.sh inside, on the host's root file
# system shared read-only. Output lands in RESULTS/output, the exit status in
# RESULTS/status. A VM that outlives TIMEOUT seconds is killed: a failure.
#   run-vm.sh KERNEL_DIR RESULTS_DIR TIMEOUT_SECONDS
set -euo pipefail
kdir=$(cd "$1" && pwd)
results=$(cd "$2" && pwd)
limit=$3
release=$(basename "$kdir")
echo "$kdir" >"$results/kernel-dir"
rm -f "$results/status" "$results/output"

# thread=multi: two vCPUs on two host threads (the generic kernels were
# measured stable under multi-threaded TCG; see the README's Kernels section).
timeout --kill-after=10 "$limit" qemu-system-x86_64 \
  -accel tcg,thread=multi -cpu max -m 2G -smp 2 \
  -nographic -no-reboot -serial "file:$results/console.log" -monitor none \
  -kernel "$kdir/root/boot/vmlinuz-$release" -initrd "$kdir/initramfs.cpio.gz" \
  -append "console=ttyS0 panic=-1 quiet loglevel=3" \
  -virtfs local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$results",mount_tag=results,security_model=none \
  </dev/null >/dev/null 2>"$results/qemu.stderr" || true
if [ ! -f "$results/status" ]; then
  echo "VM $release did not finish within ${limit}s (console: $results/console.log)" >&2
  exit 124
fi
exit "$(cat "$results/status")"
