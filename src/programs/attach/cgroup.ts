/**
 * cgroup programs: a bpf_link on a cgroup v2 directory (LINK_CREATE with the
 * directory's fd as target and the section's attach type); by default the
 * root of the cgroup v2 hierarchy, i.e. every process.
 */
import { TsbpfError } from "../../errors.js";
import { bpf, closeFd } from "../../syscall/bpf.js";
import { O_CLOEXEC, O_DIRECTORY, O_RDONLY, openFile, readHostText } from "../../syscall/host-files.js";
import { BpfCmd } from "../../abi/uapi-enums.js";
import { Link } from "../link.js";
import type { AttachOptions, AttachTarget } from "./options.js";

/**
 * Where cgroup v2 is mounted: /sys/fs/cgroup on unified systems,
 * /sys/fs/cgroup/unified on hybrid ones (v1 controllers beside it).
 */
export function cgroup2Root(): string {
  const mounts = readHostText("/proc/mounts")
    .split("\n")
    .map((l) => l.split(" "));
  const m = mounts.find((f) => f[2] === "cgroup2");
  if (!m) throw new TsbpfError("no cgroup v2 filesystem is mounted (mount -t cgroup2 none /sys/fs/cgroup)");
  return m[1]!;
}

export function attachCgroup(t: AttachTarget, opts: AttachOptions): Link {
  const path = opts.cgroup ?? cgroup2Root();
  let dirFd: number;
  try {
    dirFd = openFile(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } catch (e) {
    throw new TsbpfError(`program ${t.program}: cannot open cgroup ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const fd = bpf(
      BpfCmd.LINK_CREATE,
      { prog_fd: t.progFd, target_fd: dirFd, attach_type: t.expectedAttachType, flags: 0 },
      `attaching ${t.program} (${t.sectionName}) to cgroup ${path}`,
    );
    return new Link("cgroup", t.program, path, { linkFd: fd });
  } finally {
    closeFd(dirFd);
  }
}
