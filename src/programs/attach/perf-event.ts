/** Placeholder: being implemented. */
import { UnsupportedError } from "../../errors.js";
import type { Link } from "../link.js";
import type { AttachOptions, AttachTarget } from "./options.js";

export function attachPerfEventProgram(t: AttachTarget, _opts: AttachOptions): Link {
  throw new UnsupportedError(`${t.program}: perf-event attachment is not implemented yet`);
}
