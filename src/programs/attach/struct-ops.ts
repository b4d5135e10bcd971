/**
 * Registering a struct_ops map with the kernel (libbpf's
 * bpf_map__attach_struct_ops): writing its one value — the kernel struct
 * with program fds in its function pointers — makes the kernel check and
 * register it (e.g. a TCP congestion control appears in
 * tcp_available_congestion_control). A SEC(".struct_ops") map stays
 * registered until its value is deleted; a SEC(".struct_ops.link") map
 * (BPF_F_LINK) is registered by a bpf_link made from it, and unregistered
 * when that link is closed.
 */
import { BpfAttachType, BpfCmd } from "../../abi/uapi-enums.js";
import type { BpfMap } from "../../maps/bpf-map.js";
import { bpf } from "../../syscall/bpf.js";
import { Link } from "../link.js";

export function registerStructOps(map: BpfMap, value: Uint8Array, viaLink: boolean): Link {
  const type = map.spec.structOps?.typeName ?? "struct_ops";
  const key = new Uint8Array(4);
  bpf(
    BpfCmd.MAP_UPDATE_ELEM,
    { map_fd: map.fd, key, value, flags: 0 },
    `registering struct_ops ${map.name} (struct ${type}); the kernel checks each callback and refuses names already in use`,
  );
  if (!viaLink) {
    return new Link("struct_ops", map.name, `struct ${type}`, { cleanup: () => void map.delete(key) });
  }
  const linkFd = bpf(
    BpfCmd.LINK_CREATE,
    { prog_fd: map.fd, target_fd: 0, attach_type: BpfAttachType.STRUCT_OPS, flags: 0 },
    `creating the bpf_link of struct_ops ${map.name} (struct ${type})`,
  );
  return new Link("struct_ops", map.name, `struct ${type}`, { linkFd });
}
