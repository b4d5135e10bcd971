#!/usr/bin/env bash
# Fetches one of Debian 12's own kernels (generic flavour: it has 9p as modules)
# from apt, extracts it (dpkg -x: never installed as the host kernel) and builds
# the small busybox initramfs that boots it. Cached: a second run does nothing.
#   fetch-kernel.sh SERIES CACHE_DIR      SERIES: 6.1 | 6.12
# Prints the kernel directory (CACHE_DIR/<release>) on stdout.
set -euo pipefail
series=$1
cache=$2
here=$(cd "$(dirname "$0")" && pwd)

case "$series" in
  6.1) pattern='^linux-image-6\.1\.0-[0-9]+-amd64$' ;;
  6.12) pattern='^linux-image-6\.12\.[0-9]+\+deb12-amd64$' ;;
  *) echo "unknown kernel series $series (known: 6.1, 6.12)" >&2; exit 2 ;;
esac
# The newest matching package the archive has today (numbers move with security updates).
pkg=$(apt-cache pkgnames linux-image- | grep -E "$pattern" | sort -V | tail -1)
[ -n "$pkg" ] || { echo "no package matches $pattern (apt-get update?)" >&2; exit 1; }
release=${pkg#linux-image-}
dir="$cache/$release"
# The cache is valid for the scripts that built it: a changed init or fetch script rebuilds it.
stamp=$(cat "$here/fetch-kernel.sh" "$here/vm-init.sh" | sha256sum | cut -c1-16)
if [ -f "$dir/initramfs.cpio.gz" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ]; then echo "$dir"; exit 0; fi

rm -rf "$dir" && mkdir -p "$dir/deb"
(cd "$dir/deb" && apt-get download -qq "$pkg" 2>/dev/null)
dpkg -x "$dir"/deb/*.deb "$dir/root"
rm -rf "$dir/deb"
mods="$dir/root/lib/modules/$release"
# Debian's 6.12 modules are xz-compressed: plain .ko files for busybox's insmod
# and modprobe. dpkg -x ran no depmod (and this host has none): busybox's writes
# modules.dep, so the guest's request_module (veth, sch_ingress, ...) finds them.
find "$mods" -name '*.ko.xz' -exec xz -d {} +
busybox depmod -b "$dir/root" "$release"

# Module closure in load order (no depmod here: read each .ko's modinfo "depends=").
declare -A seen=()
order=()
add() {
  local name=$1 f deps d
  [ -n "${seen[$name]:-}" ] && return 0
  seen[$name]=1
  f=$(find "$mods/kernel" -name "$name.ko" -print -quit)
  [ -n "$f" ] || return 0 # built in
  deps=$(grep -a -o 'depends=[^[:cntrl:]]*' "$f" | head -1 | cut -d= -f2 | tr ',' ' ')
  for d in $deps; do add "$d"; done
  order+=("$f")
}
for m in virtio_pci virtio_console 9pnet_virtio 9p overlay; do add "$m"; done

ir="$dir/initramfs"
mkdir -p "$ir"/{bin,dev,proc,sys,mnt,lib/modules}
cp /bin/busybox "$ir/bin/busybox"
: >"$ir/modules.order"
for f in "${order[@]}"; do
  cp "$f" "$ir/lib/modules/"
  basename "$f" >>"$ir/modules.order"
done
cp "$here/vm-init.sh" "$ir/init"
chmod +x "$ir/init"
(cd "$ir" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$dir/initramfs.cpio.gz"
rm -rf "$ir"
echo "$stamp" >"$dir/stamp"
echo "$dir"
