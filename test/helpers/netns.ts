/**
 * Network namespaces for tests that attach to interfaces: a veth pair
 * between two fresh namespaces (addresses 10.199.0.1 and .2), removed by
 * the returned function whatever happened. Interface names are per
 * namespace, so fixed ones (tva, tvb) never clash with other tests.
 */
import { execFileSync, spawnSync } from "node:child_process";

export interface VethPair {
  /** Namespace names: `a` holds tva (10.199.0.1), `b` holds tvb (10.199.0.2). */
  a: string;
  b: string;
  remove(): void;
}

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });

export function vethPair(tag: string): VethPair {
  const a = `tsbpf-${tag}-a-${process.pid}`;
  const b = `tsbpf-${tag}-b-${process.pid}`;
  const remove = () => {
    for (const ns of [a, b]) spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  };
  try {
    ip("netns", "add", a);
    ip("netns", "add", b);
    ip("link", "add", "tva", "netns", a, "type", "veth", "peer", "name", "tvb", "netns", b);
    ip("-n", a, "addr", "add", "10.199.0.1/24", "dev", "tva");
    ip("-n", b, "addr", "add", "10.199.0.2/24", "dev", "tvb");
    for (const [ns, dev] of [
      [a, "tva"],
      [b, "tvb"],
      [a, "lo"],
      [b, "lo"],
    ] as const)
      ip("-n", ns, "link", "set", dev, "up");
  } catch (e) {
    remove();
    throw e;
  }
  return { a, b, remove };
}

/** One namespace with only its loopback, up. */
export function lonelyNamespace(tag: string): { name: string; remove(): void } {
  const name = `tsbpf-${tag}-${process.pid}`;
  const remove = () => void spawnSync("ip", ["netns", "del", name], { stdio: "ignore" });
  try {
    ip("netns", "add", name);
    ip("-n", name, "link", "set", "lo", "up");
  } catch (e) {
    remove();
    throw e;
  }
  return { name, remove };
}

/** `tc …` inside namespace `ns`, its output trimmed. */
export function tcIn(ns: string, ...args: string[]): string {
  return execFileSync("ip", ["netns", "exec", ns, "tc", ...args], { encoding: "utf8" }).trim();
}
