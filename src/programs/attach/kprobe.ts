/** Placeholder: being implemented. */
import { UnsupportedError } from "../../errors.js";
import type { Link } from "../link.js";
import type { AttachOptions, AttachTarget } from "./options.js";

export function attachKprobe(t: AttachTarget, _opts: AttachOptions): Link {
  throw new UnsupportedError(`${t.program}: kprobe attachment is not implemented yet`);
}
