/**
 * The BTF type model: one plain object per type, as the kernel's
 * `struct btf_type` + its kind-specific trailer describe it
 * (include/uapi/linux/btf.h). Type ids are positions in the type section,
 * starting at 1; id 0 is `void`.
 */

/** BTF_KIND_* values, as the kernel numbers them. */
export enum BtfKind {
  Void = 0,
  Int = 1,
  Ptr = 2,
  Array = 3,
  Struct = 4,
  Union = 5,
  Enum = 6,
  Fwd = 7,
  Typedef = 8,
  Volatile = 9,
  Const = 10,
  Restrict = 11,
  Func = 12,
  FuncProto = 13,
  Var = 14,
  Datasec = 15,
  Float = 16,
  DeclTag = 17,
  TypeTag = 18,
  Enum64 = 19,
}

/** The upper-case names bpftool and the kernel print for each kind. */
export const BTF_KIND_NAMES: Record<BtfKind, string> = {
  [BtfKind.Void]: "UNKN",
  [BtfKind.Int]: "INT",
  [BtfKind.Ptr]: "PTR",
  [BtfKind.Array]: "ARRAY",
  [BtfKind.Struct]: "STRUCT",
  [BtfKind.Union]: "UNION",
  [BtfKind.Enum]: "ENUM",
  [BtfKind.Fwd]: "FWD",
  [BtfKind.Typedef]: "TYPEDEF",
  [BtfKind.Volatile]: "VOLATILE",
  [BtfKind.Const]: "CONST",
  [BtfKind.Restrict]: "RESTRICT",
  [BtfKind.Func]: "FUNC",
  [BtfKind.FuncProto]: "FUNC_PROTO",
  [BtfKind.Var]: "VAR",
  [BtfKind.Datasec]: "DATASEC",
  [BtfKind.Float]: "FLOAT",
  [BtfKind.DeclTag]: "DECL_TAG",
  [BtfKind.TypeTag]: "TYPE_TAG",
  [BtfKind.Enum64]: "ENUM64",
};

/** BTF_INT_* encoding bits of an INT type. */
export const BTF_INT_SIGNED = 1;
export const BTF_INT_CHAR = 2;
export const BTF_INT_BOOL = 4;

/** BTF_FUNC_* / BTF_VAR_* linkage values. */
export enum BtfLinkage {
  Static = 0,
  Global = 1,
  Extern = 2,
}

interface Common {
  /** Type id in its BTF (1-based; 0 is void). */
  id: number;
  /** Name from the string section; "" for anonymous types. */
  name: string;
}

export interface VoidType extends Common {
  kind: BtfKind.Void;
}
export interface IntType extends Common {
  kind: BtfKind.Int;
  size: number;
  /** BTF_INT_SIGNED | BTF_INT_CHAR | BTF_INT_BOOL bits. */
  encoding: number;
  /** Bit offset of the value inside the storage (rarely non-zero). */
  bitOffset: number;
  bits: number;
}
export interface PtrType extends Common {
  kind: BtfKind.Ptr;
  type: number;
}
export interface ArrayType extends Common {
  kind: BtfKind.Array;
  elemType: number;
  indexType: number;
  nelems: number;
}
export interface Member {
  name: string;
  type: number;
  /** Offset of the member in bits from the start of the struct/union. */
  bitOffset: number;
  /** Bitfield width in bits; 0 when the member is not a bitfield. */
  bitfieldSize: number;
}
export interface CompositeType extends Common {
  kind: BtfKind.Struct | BtfKind.Union;
  size: number;
  members: Member[];
  /** kind_flag: member offsets encode bitfield sizes. */
  kindFlag: boolean;
}
export interface EnumValue {
  name: string;
  /** Value as a bigint: ENUM64 values do not fit a number, and one code path is simpler. */
  value: bigint;
}
export interface EnumType extends Common {
  kind: BtfKind.Enum | BtfKind.Enum64;
  size: number;
  /** kind_flag on ENUM/ENUM64: the values are signed. */
  signed: boolean;
  values: EnumValue[];
}
export interface FwdType extends Common {
  kind: BtfKind.Fwd;
  /** kind_flag: forward declaration of a union rather than a struct. */
  union: boolean;
}
/** Types that only refer to another type: typedef and the qualifiers. */
export interface RefType extends Common {
  kind: BtfKind.Typedef | BtfKind.Volatile | BtfKind.Const | BtfKind.Restrict | BtfKind.TypeTag;
  type: number;
}
export interface FuncType extends Common {
  kind: BtfKind.Func;
  /** Id of the FUNC_PROTO. */
  type: number;
  linkage: BtfLinkage;
}
export interface Param {
  name: string;
  type: number;
}
export interface FuncProtoType extends Common {
  kind: BtfKind.FuncProto;
  returnType: number;
  params: Param[];
}
export interface VarType extends Common {
  kind: BtfKind.Var;
  type: number;
  linkage: BtfLinkage;
}
export interface VarSecinfo {
  /** Id of the VAR (or FUNC for extern functions in .ksyms). */
  type: number;
  offset: number;
  size: number;
}
export interface DatasecType extends Common {
  kind: BtfKind.Datasec;
  size: number;
  vars: VarSecinfo[];
}
export interface FloatType extends Common {
  kind: BtfKind.Float;
  size: number;
}
export interface DeclTagType extends Common {
  kind: BtfKind.DeclTag;
  type: number;
  /** -1 for the type itself, else the member / parameter index. */
  componentIdx: number;
}

export type BtfType =
  | VoidType
  | IntType
  | PtrType
  | ArrayType
  | CompositeType
  | EnumType
  | FwdType
  | RefType
  | FuncType
  | FuncProtoType
  | VarType
  | DatasecType
  | FloatType
  | DeclTagType;

export function isComposite(t: BtfType): t is CompositeType {
  return t.kind === BtfKind.Struct || t.kind === BtfKind.Union;
}

export function isEnum(t: BtfType): t is EnumType {
  return t.kind === BtfKind.Enum || t.kind === BtfKind.Enum64;
}

/** Kinds that wrap exactly one other type without changing its layout. */
export function isModifier(t: BtfType): t is RefType {
  return (
    t.kind === BtfKind.Typedef ||
    t.kind === BtfKind.Volatile ||
    t.kind === BtfKind.Const ||
    t.kind === BtfKind.Restrict ||
    t.kind === BtfKind.TypeTag
  );
}
