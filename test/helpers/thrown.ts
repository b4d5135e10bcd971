/** What `fn` throws (undefined if it returns): for asserting on an error's type and fields. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
