/**
 * "Essential" names: CO-RE ignores everything from the last `___` flavor
 * separator on, so `task_struct___old` and `task_struct` are candidates for
 * each other. A separator is `X___Y` where neither X nor Y is an underscore.
 */

const UNDERSCORE = 0x5f;

/** Length of `name`'s essential prefix: up to (not including) the last flavor separator. */
export function essentialNameLength(name: string): number {
  // Position i is the X of X___Y, so Y at i + 4 must still be inside the name.
  for (let i = name.length - 5; i >= 0; i--) {
    if (
      name.charCodeAt(i) !== UNDERSCORE &&
      name.charCodeAt(i + 1) === UNDERSCORE &&
      name.charCodeAt(i + 2) === UNDERSCORE &&
      name.charCodeAt(i + 3) === UNDERSCORE &&
      name.charCodeAt(i + 4) !== UNDERSCORE
    ) {
      return i + 1;
    }
  }
  return name.length;
}

/**
 * essentialNameLength on a name's UTF-8 bytes[start, end): where its
 * essential part ends. '_' is one byte and no byte of a multi-byte character
 * is '_', so the separator falls at the same character as in the text.
 */
export function essentialNameEnd(bytes: Uint8Array, start: number, end: number): number {
  for (let i = end - 5; i >= start; i--) {
    if (
      bytes[i] !== UNDERSCORE &&
      bytes[i + 1] === UNDERSCORE &&
      bytes[i + 2] === UNDERSCORE &&
      bytes[i + 3] === UNDERSCORE &&
      bytes[i + 4] !== UNDERSCORE
    ) {
      return i + 1;
    }
  }
  return end;
}

/** `name` without its flavor suffix: "task_struct___old" → "task_struct". */
export function essentialName(name: string): string {
  const n = essentialNameLength(name);
  return n === name.length ? name : name.slice(0, n);
}

/** True when both names are equal once their flavor suffixes are dropped. */
export function essentialNamesEqual(a: string, b: string): boolean {
  const n = essentialNameLength(a);
  return n === essentialNameLength(b) && a.slice(0, n) === b.slice(0, n);
}
