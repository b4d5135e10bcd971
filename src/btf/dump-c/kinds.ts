/**
 * BTF_KIND_* numbers, shared by every part of the C dumper. A const enum so
 * that tsc writes them as literals: the hot paths compare them ~10M times on
 * vmlinux, and values imported from another module are read at run time.
 */
export const enum Kind {
  INT = 1,
  PTR = 2,
  ARRAY = 3,
  STRUCT = 4,
  UNION = 5,
  ENUM = 6,
  FWD = 7,
  TYPEDEF = 8,
  VOLATILE = 9,
  CONST = 10,
  RESTRICT = 11,
  FUNC = 12,
  FUNC_PROTO = 13,
  VAR = 14,
  DATASEC = 15,
  FLOAT = 16,
  DECL_TAG = 17,
  TYPE_TAG = 18,
  ENUM64 = 19,
}
