/** Consumer scripts print one JSON line of results for the test to check; bigints as strings, undefined as null. */
export function report(result: unknown): void {
  process.stdout.write(
    `${JSON.stringify(result, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v === undefined ? null : v))}\n`,
  );
}

/** The error's class name, errno and code, and message: what the tests compare. */
export function describeError(e: unknown): { name: string; errno?: number; code?: string; message: string } {
  const err = e as { name?: string; errno?: number; code?: string; message?: string };
  return {
    name: err.name ?? typeof e,
    ...(typeof err.errno === "number" ? { errno: err.errno } : {}),
    ...(typeof err.code === "string" ? { code: err.code } : {}),
    message: err.message ?? String(e),
  };
}

export function thrown(fn: () => unknown): ReturnType<typeof describeError> | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return describeError(e);
  }
}
