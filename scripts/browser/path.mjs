// node:path's basename, for the report page's browser bundle.
export function basename(path, ext) {
  const base = path.replace(/\/+$/, "").split("/").pop() ?? "";
  return ext && base.endsWith(ext) ? base.slice(0, -ext.length) : base;
}
