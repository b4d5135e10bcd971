#!/bin/busybox sh
# /init of the test VM's initramfs: load 9p, mount the host's root read-only
# with a tmpfs overlay, give it the usual BPF mounts, run /results/cmd.sh in
# it, power off. Output and exit status go to the writable results share.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod "/lib/modules/$m" 2>/dev/null; done

mkdir -p /lower /rw /newroot /results
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose root /lower || { echo "vm-init: cannot mount the root share"; poweroff -f; }
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /results
mount -t tmpfs -o size=1500m tmpfs /rw
mkdir -p /rw/upper /rw/work
if ! mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot; then
  echo "vm-init: overlay failed; running on the read-only root"
  mount --bind /lower /newroot
fi

r=/newroot
mount -t proc proc $r/proc
mount -t sysfs sys $r/sys
mount -t devtmpfs dev $r/dev
mkdir -p $r/dev/pts $r/dev/shm && mount -t devpts devpts $r/dev/pts && mount -t tmpfs tmpfs $r/dev/shm
mount -t tmpfs tmpfs $r/tmp
mount -t tmpfs tmpfs $r/run
mount -t bpf bpf $r/sys/fs/bpf
mount -t tracefs tracefs $r/sys/kernel/tracing
mount -t debugfs debugfs $r/sys/kernel/debug
mount -t cgroup2 cgroup2 $r/sys/fs/cgroup
mkdir -p $r/results && mount --bind /results $r/results

# The guest kernel's modules and config where tools look for them (/lib/modules, /boot/config-*).
kdir=$(cat /results/kernel-dir)
release=$(uname -r)
# The kernel's own module requests (ip link add type veth, tc qdiscs, ...) run
# its modprobe helper in this initramfs, not in the chroot: busybox's, over the
# full module tree.
mkdir -p "/lib/modules/$release"
mount --bind "/lower$kdir/root/lib/modules/$release" "/lib/modules/$release"
echo /bin/modprobe >/proc/sys/kernel/modprobe
mkdir -p "$r/lib/modules/$release"
mount --bind "$r$kdir/root/lib/modules/$release" "$r/lib/modules/$release"
cp "$r$kdir/root/boot/config-$release" "$r/boot/config-$release" 2>/dev/null

chroot $r /bin/sh -c 'ip link set lo up; hostname tsbpf-vm; exec /bin/sh /results/cmd.sh' >/results/output 2>&1
echo $? >/results/status
sync
poweroff -f
