/**
 * bpftool's way of naming a loaded program or map on the command line:
 *
 *   PROG := id ID | name NAME | tag TAG | pinned PATH
 *   MAP  := id ID | name NAME | pinned PATH
 *
 * plus tsbpf's older shorthand, a bare id or name (`map dump 12`,
 * `map dump rb`). A selector that matches nothing is a runtime failure
 * (exit 1: "no map with id 999999", "no map named nosuchmap"), as a missing
 * file is; a malformed one is a usage error (exit 2).
 */
import { NotFoundError, TsbpfError } from "../errors.js";
import { closeFd, tryBpf } from "../syscall/bpf.js";
import { cString } from "../syscall/c-string.js";
import { ENOENT } from "../syscall/errno.js";
import { bpfFdKind, describeFdKind } from "../syscall/fd-kind.js";
import { fdById, mapInfo, progInfo } from "../syscall/obj-info.js";
import { listObjectIds } from "../syscall/object-ids.js";
import { SyscallError } from "../syscall/syscall-error.js";
import { BpfCmd } from "../abi/uapi-enums.js";
import { escapeText } from "../text/escape.js";
import { UsageError } from "./args.js";

export type ObjectKind = "prog" | "map";

export type Selector =
  | { by: "id"; id: number }
  | { by: "name"; name: string }
  | { by: "tag"; tag: string }
  | { by: "pinned"; path: string };

const KEYWORDS: Record<ObjectKind, readonly string[]> = { prog: ["id", "name", "tag", "pinned"], map: ["id", "name", "pinned"] };

/**
 * Reads a selector from the front of `words` (consuming it); undefined when
 * there is none. With `bare`, a lone number or name is accepted as one.
 */
export function takeSelector(kind: ObjectKind, words: string[], bare: boolean): Selector | undefined {
  const first = words[0];
  if (first === undefined) return undefined;
  if (KEYWORDS[kind].includes(first)) {
    const value = words[1];
    if (value === undefined) throw new UsageError(`${kind} ${first} needs a value`);
    words.splice(0, 2);
    switch (first) {
      case "id":
        if (!/^\d+$/.test(value)) throw new UsageError(`${kind} id must be a number, got ${escapeText(value)}`);
        return { by: "id", id: Number(value) };
      case "name":
        return { by: "name", name: value };
      case "tag":
        if (!/^[0-9a-f]{16}$/i.test(value)) throw new UsageError(`prog tag is 16 hex digits, got ${escapeText(value)}`);
        return { by: "tag", tag: value.toLowerCase() };
      default:
        return { by: "pinned", path: value };
    }
  }
  if (!bare) throw new UsageError(`expected ${KEYWORDS[kind].join(" | ")}, got ${escapeText(first)}`);
  words.shift();
  return /^\d+$/.test(first) ? { by: "id", id: Number(first) } : { by: "name", name: first };
}

export function describeSelector(kind: ObjectKind, s: Selector): string {
  const what = kind === "prog" ? "program" : "map";
  switch (s.by) {
    case "id":
      return `no ${what} with id ${s.id}`;
    case "name":
      return `no ${what} named ${escapeText(s.name)} (tsbpf ${kind} list shows them)`;
    case "tag":
      return `no ${what} with tag ${s.tag}`;
    case "pinned":
      return `nothing is pinned at ${escapeText(s.path)}`;
  }
}

/** An fd for the object with this id, or undefined when it is gone (or never was). */
export function openById(kind: ObjectKind, id: number): number | undefined {
  try {
    return fdById(kind, id);
  } catch (e) {
    if (e instanceof SyscallError && e.errno === ENOENT) return undefined;
    throw e;
  }
}

function openPinnedObject(kind: ObjectKind, path: string): number | undefined {
  const r = tryBpf(BpfCmd.OBJ_GET, { pathname: cString(path), bpf_fd: 0, file_flags: 0 });
  if (r.ret === -1) {
    if (r.errno === ENOENT) return undefined;
    throw new SyscallError(r.req, r.errno, `opening ${escapeText(path)}`);
  }
  const fd = Number(r.ret);
  const is = bpfFdKind(fd);
  if (is !== kind) {
    closeFd(fd);
    throw new TsbpfError(`${escapeText(path)} holds ${describeFdKind(is)}, not ${describeFdKind(kind)}`);
  }
  return fd;
}

/** Calls `fn` with an fd of each object the selector names (closing it after); throws NotFoundError when there is none. */
export function withSelected<T>(kind: ObjectKind, s: Selector, fn: (fd: number, id: number) => T): T[] {
  const results: T[] = [];
  const visit = (fd: number, id: number) => {
    try {
      results.push(fn(fd, id));
    } finally {
      closeFd(fd);
    }
  };
  if (s.by === "id") {
    const fd = openById(kind, s.id);
    if (fd !== undefined) visit(fd, s.id);
  } else if (s.by === "pinned") {
    const fd = openPinnedObject(kind, s.path);
    if (fd !== undefined) visit(fd, kind === "prog" ? progInfo(fd).id : mapInfo(fd).id);
  } else {
    for (const id of listObjectIds(kind)) {
      const fd = openById(kind, id);
      if (fd === undefined) continue; // gone between the id walk and the open
      let match: boolean;
      try {
        match = s.by === "name" ? (kind === "prog" ? progInfo(fd).name : mapInfo(fd).name) === s.name : progInfo(fd).tag === s.tag;
      } catch (e) {
        closeFd(fd);
        throw e;
      }
      if (match) visit(fd, id);
      else closeFd(fd);
    }
  }
  if (results.length === 0) throw new NotFoundError(describeSelector(kind, s));
  return results;
}

/** `fn` on every loaded object of the kind (those that vanish mid-walk are skipped). */
export function withEvery<T>(kind: ObjectKind, fn: (fd: number, id: number) => T): T[] {
  const results: T[] = [];
  for (const id of listObjectIds(kind)) {
    const fd = openById(kind, id);
    if (fd === undefined) continue;
    try {
      results.push(fn(fd, id));
    } finally {
      closeFd(fd);
    }
  }
  return results;
}
