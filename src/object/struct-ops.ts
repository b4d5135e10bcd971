/**
 * struct_ops maps against the running kernel, as libbpf lays them out
 * (bpf_map__init_kern_struct_ops): the map's value is the kernel's
 * `struct bpf_struct_ops_<name>` — a common header, then the kernel's own
 * `struct <name>`. Each member of the object's struct is matched by name
 * to the kernel's: data members are copied to the kernel's offset (sizes
 * must agree), function pointers become the fd of the program they name,
 * and that program is loaded with attach_btf_id = the kernel struct's BTF
 * id and expected_attach_type = the member's index in it. Members the
 * kernel does not have are allowed only when zero (newer headers).
 */
import { BpfProgType } from "../abi/uapi-enums.js";
import type { Btf } from "../btf/btf.js";
import { BtfKind, type CompositeType } from "../btf/types.js";
import { NotFoundError, ObjectFormatError, UnsupportedError } from "../errors.js";
import type { MapSpec } from "../spec/map-spec.js";
import type { ProgramSpec } from "../spec/object-spec.js";

const VALUE_PREFIX = "bpf_struct_ops_";

/** What a struct_ops program is loaded with. */
export interface StructOpsAttach {
  attachBtfId: number;
  expectedAttachType: number;
}

interface MapPlan {
  /** The kernel's bpf_struct_ops_<name> value, data members filled, fd slots zero. */
  value: Uint8Array;
  vtypeId: number;
  /** Byte offset in `value` → program whose fd goes there. */
  fdSlots: Array<[number, string]>;
}

export class StructOpsPlan {
  private constructor(
    private readonly maps: ReadonlyMap<string, MapPlan>,
    private readonly programs: ReadonlyMap<string, StructOpsAttach>,
  ) {}

  /**
   * Lays out every struct_ops map of the object in the kernel's types.
   * Throws for a struct the kernel does not offer, a member that does not
   * fit, and a struct_ops program that no map uses (it would have no
   * attach target, as libbpf reports).
   */
  static prepare(maps: readonly MapSpec[], programs: readonly ProgramSpec[], objBtf: Btf, kernel: Btf): StructOpsPlan {
    const mapPlans = new Map<string, MapPlan>();
    const progs = new Map<string, StructOpsAttach>();
    for (const spec of maps) {
      const ops = spec.structOps;
      if (!ops) continue;
      const where = `struct_ops map ${spec.name} (struct ${ops.typeName})`;
      const kernType = findStruct(kernel, ops.typeName);
      const vtype = findStruct(kernel, VALUE_PREFIX + ops.typeName);
      if (!kernType || !vtype) {
        throw new NotFoundError(
          `${where}: the kernel offers no struct_ops of this type (no struct ${vtype ? ops.typeName : VALUE_PREFIX + ops.typeName} in its BTF)`,
        );
      }
      const dataMember = vtype.members.find((m) => m.type === kernType.id);
      if (!dataMember) throw new ObjectFormatError(`kernel BTF`, 0, `struct ${vtype.name} has no member of type struct ${ops.typeName}`);
      const dataOff = dataMember.bitOffset / 8;
      const value = new Uint8Array(vtype.size);
      const fdSlots: Array<[number, string]> = [];
      const own = objBtf.type(ops.typeId) as CompositeType;
      own.members.forEach((member, i) => {
        const off = member.bitOffset / 8;
        const size = objBtf.resolveSize(member.type);
        const bytes = ops.data.subarray(off, off + size);
        const program = ops.programs.get(i);
        const kIndex = kernType.members.findIndex((k) => k.name === member.name);
        const kMember = kernType.members[kIndex];
        if (!kMember) {
          if (program || bytes.some((b) => b !== 0)) {
            throw new UnsupportedError(
              `${where}: member ${member.name} is set, but this kernel's struct ${ops.typeName} has no such member`,
            );
          }
          return;
        }
        if (member.bitfieldSize || kMember.bitfieldSize)
          throw new UnsupportedError(`${where}: bitfield member ${member.name} is not supported`);
        const mine = objBtf.type(objBtf.skipModifiers(member.type));
        const theirs = kernel.type(kernel.skipModifiers(kMember.type));
        if (mine.kind !== theirs.kind) {
          throw new UnsupportedError(
            `${where}: member ${member.name} is a ${BtfKind[mine.kind]} here but a ${BtfKind[theirs.kind]} in the kernel`,
          );
        }
        const kOff = dataOff + kMember.bitOffset / 8;
        if (mine.kind === BtfKind.Ptr) {
          if (!program) return; // NULL pointers (and pointers no program fills) stay zero
          if (theirs.kind !== BtfKind.Ptr || kernel.kind(kernel.skipModifiers(theirs.type)) !== BtfKind.FuncProto) {
            throw new UnsupportedError(`${where}: kernel member ${member.name} is not a function pointer`);
          }
          const attach = { attachBtfId: kernType.id, expectedAttachType: kIndex };
          const before = progs.get(program);
          // One program may serve several maps, but only in the same member of the same struct (as libbpf checks).
          if (before && (before.attachBtfId !== attach.attachBtfId || before.expectedAttachType !== attach.expectedAttachType)) {
            throw new UnsupportedError(
              `${where}: program ${program} is already used for another struct_ops member; each member needs its own program`,
            );
          }
          progs.set(program, attach);
          fdSlots.push([kOff, program]);
          return;
        }
        const kSize = kernel.resolveSize(kMember.type);
        if (kSize !== size) throw new UnsupportedError(`${where}: member ${member.name} is ${size} bytes here but ${kSize} in the kernel`);
        value.set(bytes, kOff);
      });
      mapPlans.set(spec.name, { value, vtypeId: vtype.id, fdSlots });
    }
    const unused = programs.find((p) => p.section.def.progType === BpfProgType.STRUCT_OPS && !progs.has(p.name));
    if (unused) {
      throw new UnsupportedError(
        `program ${unused.name} (section ${unused.sectionName}) is a struct_ops program that no SEC(".struct_ops") variable uses: it has no attach target`,
      );
    }
    return new StructOpsPlan(mapPlans, progs);
  }

  /** The spec the kernel creates: the kernel's value size and type, no object BTF type ids. */
  kernelMapSpec(spec: MapSpec): MapSpec {
    const plan = this.maps.get(spec.name);
    if (!plan) return spec;
    return { ...spec, valueSize: plan.value.byteLength, btfKeyTypeId: 0, btfValueTypeId: 0, btfVmlinuxValueTypeId: plan.vtypeId };
  }

  /** attach_btf_id and expected_attach_type of a struct_ops program. */
  programAttach(name: string): StructOpsAttach | undefined {
    return this.programs.get(name);
  }

  /** The value registering map `name`: program fds in their members. */
  value(name: string, programFd: (program: string) => number | undefined): Uint8Array | undefined {
    const plan = this.maps.get(name);
    if (!plan) return undefined;
    const value = plan.value.slice();
    const view = new DataView(value.buffer);
    for (const [off, program] of plan.fdSlots) {
      const fd = programFd(program);
      if (fd === undefined) throw new NotFoundError(`struct_ops map ${name}: program ${program} is not loaded`);
      view.setBigUint64(off, BigInt(fd), true);
    }
    return value;
  }

  get mapNames(): string[] {
    return [...this.maps.keys()];
  }
}

function findStruct(btf: Btf, name: string): CompositeType | undefined {
  const id = btf.idsByName(name).find((i) => btf.kind(i) === BtfKind.Struct);
  return id === undefined ? undefined : (btf.type(id) as CompositeType);
}
