// SPDX-License-Identifier: GPL-2.0
// CO-RE test object: one program, core_all, exercises every CO-RE relocation
// kind against the running kernel's BTF and writes each result into a slot of
// the .bss array `results`; enum core_slot names the slots (it is kept in the
// object's BTF by `core_slot_count`, so tests can look slots up by name).
//
// core_poison holds relocations that cannot be satisfied (a field missing
// from the kernel's task_struct, an enumerator the kernel lacks): a loader
// must poison them. Do not autoload it in a normal test.
//
// Run core_all with BPF_PROG_TEST_RUN (a syscall program: no ctx needed).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#define RLIMIT_NOFILE 7

enum core_slot {
	/* task_struct field reads of the current task */
	SLOT_PID,		/* task->pid, direct load (LDX relocation) */
	SLOT_TGID,		/* BPF_CORE_READ(task, tgid) */
	SLOT_PPID,		/* BPF_CORE_READ(task, real_parent, tgid) */
	SLOT_PPID_DIRECT,	/* task->real_parent->tgid, direct loads */
	SLOT_FLAGS,		/* task->flags, direct load of an unsigned field */
	SLOT_COMM,		/* first 8 bytes of task->comm */
	SLOT_COMM_2,		/* task->comm[2]: array element access */
	SLOT_CPUS_0,		/* task->cpus_mask.bits[0]: nested array */
	SLOT_NOFILE,		/* task->signal->rlim[RLIMIT_NOFILE].rlim_cur */
	SLOT_MAP_COUNT,		/* task->mm->map_count: inside an anonymous struct */
	/* field information */
	SLOT_COMM_SIZE,		/* bpf_core_field_size(task->comm) */
	SLOT_PID_SIZE,		/* bpf_core_field_size(task->pid) */
	SLOT_PARENT_OFFSET,	/* bpf_core_field_offset(task->real_parent) */
	SLOT_PARENT_EXISTS,	/* bpf_core_field_exists(task->real_parent) */
	SLOT_OLD_FIELD_EXISTS,	/* bpf_core_field_exists(task_struct___old, no_such_field) */
	SLOT_PID_SIGNED,	/* FIELD_SIGNED of task->pid (int) */
	SLOT_FLAGS_SIGNED,	/* FIELD_SIGNED of task->flags (unsigned int) */
	SLOT_MM_COUNT_OFFSET,	/* offset of mm_struct::mm_count, two anonymous levels down */
	SLOT_MMAP_BASE_OFFSET,	/* offset of mm_struct::mmap_base, one anonymous level down */
	SLOT_NOFILE_OFFSET,	/* offset of signal_struct::rlim[7].rlim_cur */
	/* bitfields of task_struct */
	SLOT_DUMPABLE,		/* BPF_CORE_READ_BITFIELD_PROBED(task, user_dumpable) */
	SLOT_DUMPABLE_DIRECT,	/* BPF_CORE_READ_BITFIELD(task, user_dumpable) */
	SLOT_BF_OFFSET,		/* user_dumpable: FIELD_BYTE_OFFSET */
	SLOT_BF_SIZE,		/* user_dumpable: FIELD_BYTE_SIZE */
	SLOT_BF_LSHIFT,		/* user_dumpable: FIELD_LSHIFT_U64 */
	SLOT_BF_RSHIFT,		/* user_dumpable: FIELD_RSHIFT_U64 */
	SLOT_BF_SIGNED,		/* user_dumpable: FIELD_SIGNED */
	SLOT_BF4_LSHIFT,	/* init_private_fork_class (4 bits): FIELD_LSHIFT_U64 */
	SLOT_BF4_RSHIFT,	/* init_private_fork_class: FIELD_RSHIFT_U64 */
	SLOT_IN_EXECVE,		/* BPF_CORE_READ_BITFIELD_PROBED(task, in_execve) */
	/* types */
	SLOT_TYPE_ID_LOCAL,	/* bpf_core_type_id_local(struct task_struct) */
	SLOT_TYPE_ID_TARGET,	/* bpf_core_type_id_kernel(struct task_struct) */
	SLOT_TYPE_EXISTS,	/* bpf_core_type_exists(struct task_struct) */
	SLOT_OLD_TYPE_EXISTS,	/* bpf_core_type_exists(struct task_struct___old): compatible, 1 */
	SLOT_NO_TYPE_EXISTS,	/* bpf_core_type_exists(struct tsbpf_no_such_type) */
	SLOT_NO_TYPE_ID,	/* bpf_core_type_id_kernel(struct tsbpf_no_such_type) */
	SLOT_TYPE_SIZE,		/* bpf_core_type_size(struct task_struct) */
	SLOT_TYPEDEF_SIZE,	/* bpf_core_type_size(pid_t) */
	SLOT_MATCHES_LIST,	/* bpf_core_type_matches(struct list_head___tsbpf) */
	SLOT_MATCHES_OLD,	/* bpf_core_type_matches(struct task_struct___old) */
	SLOT_MATCHES_PID_T,	/* bpf_core_type_matches(pid_t) */
	/* enums */
	SLOT_ENUM_EXISTS,	/* bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF) */
	SLOT_ENUM_VALUE,	/* bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF) */
	SLOT_ENUM_FLAVOR_VALUE,	/* the same through a flavored enum whose local value is 9999 */
	SLOT_ENUM_MISSING,	/* bpf_core_enum_value_exists of an enumerator the kernel lacks */
	SLOT_ENUM64_VALUE,	/* bpf_core_enum_value(enum perf_callchain_context, PERF_CONTEXT_KERNEL) */
	/* written by core_poison only */
	SLOT_POISON,
	SLOT_COUNT
};

__u64 results[SLOT_COUNT];

/* Keeps enum core_slot in the object's BTF. */
enum core_slot core_slot_count = SLOT_COUNT;

/* A flavor of task_struct with a field no kernel has. */
struct task_struct___old {
	int no_such_field;
} __attribute__((preserve_access_index));

/* A type no kernel has. */
struct tsbpf_no_such_type {
	int x;
} __attribute__((preserve_access_index));

/* Matches the kernel's struct list_head. (TYPE_MATCHES also compares the
 * names of integer types, and clang's "unsigned long" is gcc's "long unsigned
 * int", so a struct of pointers is the portable choice.) */
struct list_head___tsbpf {
	struct list_head___tsbpf *next, *prev;
} __attribute__((preserve_access_index));

/* A flavor of enum bpf_map_type: local values differ from the kernel's. */
enum bpf_map_type___tsbpf {
	BPF_MAP_TYPE_RINGBUF___tsbpf = 9999,
	BPF_MAP_TYPE_TSBPF_NONE___tsbpf = 10000,
};

SEC("syscall")
int core_all(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_struct *parent;
	__u64 comm = 0;

	results[SLOT_PID] = task->pid;
	results[SLOT_TGID] = BPF_CORE_READ(task, tgid);
	results[SLOT_PPID] = BPF_CORE_READ(task, real_parent, tgid);
	parent = task->real_parent;
	results[SLOT_PPID_DIRECT] = parent->tgid;
	results[SLOT_FLAGS] = task->flags;
	bpf_core_read(&comm, sizeof(comm), &task->comm);
	results[SLOT_COMM] = comm;
	results[SLOT_COMM_2] = BPF_CORE_READ(task, comm[2]);
	results[SLOT_CPUS_0] = BPF_CORE_READ(task, cpus_mask.bits[0]);
	results[SLOT_NOFILE] = BPF_CORE_READ(task, signal, rlim[RLIMIT_NOFILE].rlim_cur);
	results[SLOT_MAP_COUNT] = BPF_CORE_READ(task, mm, map_count);

	results[SLOT_COMM_SIZE] = bpf_core_field_size(task->comm);
	results[SLOT_PID_SIZE] = bpf_core_field_size(task->pid);
	results[SLOT_PARENT_OFFSET] = bpf_core_field_offset(task->real_parent);
	results[SLOT_PARENT_EXISTS] = bpf_core_field_exists(task->real_parent);
	results[SLOT_OLD_FIELD_EXISTS] = bpf_core_field_exists(struct task_struct___old, no_such_field);
	results[SLOT_PID_SIGNED] = __builtin_preserve_field_info(task->pid, BPF_FIELD_SIGNED);
	results[SLOT_FLAGS_SIGNED] = __builtin_preserve_field_info(task->flags, BPF_FIELD_SIGNED);
	results[SLOT_MM_COUNT_OFFSET] = bpf_core_field_offset(struct mm_struct, mm_count);
	results[SLOT_MMAP_BASE_OFFSET] = bpf_core_field_offset(struct mm_struct, mmap_base);
	results[SLOT_NOFILE_OFFSET] = bpf_core_field_offset(struct signal_struct, rlim[RLIMIT_NOFILE].rlim_cur);

	results[SLOT_DUMPABLE] = BPF_CORE_READ_BITFIELD_PROBED(task, user_dumpable);
	results[SLOT_DUMPABLE_DIRECT] = BPF_CORE_READ_BITFIELD(task, user_dumpable);
	results[SLOT_BF_OFFSET] = __builtin_preserve_field_info(task->user_dumpable, BPF_FIELD_BYTE_OFFSET);
	results[SLOT_BF_SIZE] = __builtin_preserve_field_info(task->user_dumpable, BPF_FIELD_BYTE_SIZE);
	results[SLOT_BF_LSHIFT] = __builtin_preserve_field_info(task->user_dumpable, BPF_FIELD_LSHIFT_U64);
	results[SLOT_BF_RSHIFT] = __builtin_preserve_field_info(task->user_dumpable, BPF_FIELD_RSHIFT_U64);
	results[SLOT_BF_SIGNED] = __builtin_preserve_field_info(task->user_dumpable, BPF_FIELD_SIGNED);
	/* A field 6.1 and 6.12 lack: guarded, or the load fails where it is missing. */
	if (bpf_core_field_exists(task->init_private_fork_class)) {
		results[SLOT_BF4_LSHIFT] = __builtin_preserve_field_info(task->init_private_fork_class, BPF_FIELD_LSHIFT_U64);
		results[SLOT_BF4_RSHIFT] = __builtin_preserve_field_info(task->init_private_fork_class, BPF_FIELD_RSHIFT_U64);
	}
	results[SLOT_IN_EXECVE] = BPF_CORE_READ_BITFIELD_PROBED(task, in_execve);

	results[SLOT_TYPE_ID_LOCAL] = bpf_core_type_id_local(struct task_struct);
	results[SLOT_TYPE_ID_TARGET] = bpf_core_type_id_kernel(struct task_struct);
	results[SLOT_TYPE_EXISTS] = bpf_core_type_exists(struct task_struct);
	results[SLOT_OLD_TYPE_EXISTS] = bpf_core_type_exists(struct task_struct___old);
	results[SLOT_NO_TYPE_EXISTS] = bpf_core_type_exists(struct tsbpf_no_such_type);
	results[SLOT_NO_TYPE_ID] = bpf_core_type_id_kernel(struct tsbpf_no_such_type);
	results[SLOT_TYPE_SIZE] = bpf_core_type_size(struct task_struct);
	results[SLOT_TYPEDEF_SIZE] = bpf_core_type_size(pid_t);
	results[SLOT_MATCHES_LIST] = bpf_core_type_matches(struct list_head___tsbpf);
	results[SLOT_MATCHES_OLD] = bpf_core_type_matches(struct task_struct___old);
	results[SLOT_MATCHES_PID_T] = bpf_core_type_matches(pid_t);

	results[SLOT_ENUM_EXISTS] = bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
	results[SLOT_ENUM_VALUE] = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
	results[SLOT_ENUM_FLAVOR_VALUE] = bpf_core_enum_value(enum bpf_map_type___tsbpf, BPF_MAP_TYPE_RINGBUF___tsbpf);
	results[SLOT_ENUM_MISSING] = bpf_core_enum_value_exists(enum bpf_map_type___tsbpf, BPF_MAP_TYPE_TSBPF_NONE___tsbpf);
	results[SLOT_ENUM64_VALUE] = bpf_core_enum_value(enum perf_callchain_context, PERF_CONTEXT_KERNEL);
	return 0;
}

/* Every relocation here fails against a real kernel and must be poisoned. */
SEC("syscall")
int core_poison(void *ctx)
{
	struct task_struct___old *old = (void *)bpf_get_current_task();

	results[SLOT_POISON] = BPF_CORE_READ(old, no_such_field);
	results[SLOT_POISON] += bpf_core_enum_value(enum bpf_map_type___tsbpf, BPF_MAP_TYPE_TSBPF_NONE___tsbpf);
	return 0;
}
