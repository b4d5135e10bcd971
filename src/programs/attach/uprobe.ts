/** Placeholder: being implemented. */
import { UnsupportedError } from "../../errors.js";
import type { Link } from "../link.js";
import type { AttachOptions, AttachTarget } from "./options.js";

export function attachUprobe(t: AttachTarget, _opts: AttachOptions): Link {
  throw new UnsupportedError(`${t.program}: uprobe attachment is not implemented yet`);
}
