/**
 * CO-RE relocation kinds grouped the way the algorithm treats them, and the
 * short names libbpf prints for them (`<byte_off>`, `<field_exists>`, ...).
 */
import { CoreReloKind } from "../btf/ext.js";

export { CoreReloKind };

const KIND_NAMES: Record<CoreReloKind, string> = {
  [CoreReloKind.FIELD_BYTE_OFFSET]: "byte_off",
  [CoreReloKind.FIELD_BYTE_SIZE]: "byte_sz",
  [CoreReloKind.FIELD_EXISTS]: "field_exists",
  [CoreReloKind.FIELD_SIGNED]: "signed",
  [CoreReloKind.FIELD_LSHIFT_U64]: "lshift_u64",
  [CoreReloKind.FIELD_RSHIFT_U64]: "rshift_u64",
  [CoreReloKind.TYPE_ID_LOCAL]: "local_type_id",
  [CoreReloKind.TYPE_ID_TARGET]: "target_type_id",
  [CoreReloKind.TYPE_EXISTS]: "type_exists",
  [CoreReloKind.TYPE_SIZE]: "type_size",
  [CoreReloKind.ENUMVAL_EXISTS]: "enumval_exists",
  [CoreReloKind.ENUMVAL_VALUE]: "enumval_value",
  [CoreReloKind.TYPE_MATCHES]: "type_matches",
};

/** libbpf's short name for a relocation kind ("byte_off", "type_matches", ...), "unknown" otherwise. */
export function coreReloKindName(kind: number): string {
  return KIND_NAMES[kind as CoreReloKind] ?? "unknown";
}

export function isFieldBased(kind: number): boolean {
  return kind >= CoreReloKind.FIELD_BYTE_OFFSET && kind <= CoreReloKind.FIELD_RSHIFT_U64;
}

export function isTypeBased(kind: number): boolean {
  return (
    kind === CoreReloKind.TYPE_ID_LOCAL ||
    kind === CoreReloKind.TYPE_ID_TARGET ||
    kind === CoreReloKind.TYPE_EXISTS ||
    kind === CoreReloKind.TYPE_SIZE ||
    kind === CoreReloKind.TYPE_MATCHES
  );
}

export function isEnumValueBased(kind: number): boolean {
  return kind === CoreReloKind.ENUMVAL_EXISTS || kind === CoreReloKind.ENUMVAL_VALUE;
}

/** Kinds whose answer, when nothing matches in the target, is 0 rather than a poisoned instruction. */
export function isExistenceCheck(kind: number): boolean {
  return (
    kind === CoreReloKind.FIELD_EXISTS ||
    kind === CoreReloKind.TYPE_EXISTS ||
    kind === CoreReloKind.TYPE_MATCHES ||
    kind === CoreReloKind.ENUMVAL_EXISTS
  );
}
