// SPDX-License-Identifier: GPL-2.0
// Benchmark object for `npm run bench` (load.many): 20 tracepoint programs
// sharing maps of several kinds, static and global subprograms and CO-RE reads
// of task_struct, the shape of a mid-sized tool. Both loaders load the same
// object (never attached): the figure is open + load of the whole object.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct counter_key {
	__u32 pid;
	__u32 slot;
};

struct event {
	__u32 pid;
	__u32 ppid;
	__u32 slot;
	__u32 flags;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct counter_key);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
} per_slot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, struct event);
} last_event SEC(".maps");

__u64 total_calls = 0;
const volatile __u32 filter_tgid = 0;

/* CO-RE: the parent's tgid, through two pointers. */
static __noinline __u32 parent_tgid(struct task_struct *task)
{
	return BPF_CORE_READ(task, real_parent, tgid);
}

/* A global subprogram: verified once on its own, called from every program. */
__noinline int bump_slot(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&per_slot, &slot);

	if (!v)
		return 0;
	*v += 1;
	return 1;
}

static __noinline int record(__u32 slot)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct counter_key key = {};
	struct event *e;
	__u64 one = 1, *n;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (filter_tgid && tgid != filter_tgid)
		return 0;
	__sync_fetch_and_add(&total_calls, 1);
	bump_slot(slot);
	key.pid = tgid;
	key.slot = slot;
	n = bpf_map_lookup_elem(&counts, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = tgid;
	e->ppid = parent_tgid(task);
	e->slot = slot;
	e->flags = BPF_CORE_READ(task, flags);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_map_update_elem(&last_event, &tgid, e, BPF_ANY);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#define PROG(n, tp) \
	SEC("tp/" tp) int prog_##n(void *ctx) { return record(n); }

PROG(0, "syscalls/sys_enter_getpid")
PROG(1, "syscalls/sys_enter_getppid")
PROG(2, "syscalls/sys_enter_gettid")
PROG(3, "syscalls/sys_enter_getuid")
PROG(4, "syscalls/sys_enter_geteuid")
PROG(5, "syscalls/sys_enter_getgid")
PROG(6, "syscalls/sys_enter_getegid")
PROG(7, "syscalls/sys_enter_sched_yield")
PROG(8, "syscalls/sys_enter_getpgrp")
PROG(9, "syscalls/sys_enter_getsid")
PROG(10, "syscalls/sys_exit_getpid")
PROG(11, "syscalls/sys_exit_getppid")
PROG(12, "syscalls/sys_exit_gettid")
PROG(13, "syscalls/sys_exit_getuid")
PROG(14, "syscalls/sys_exit_geteuid")
PROG(15, "syscalls/sys_exit_getgid")
PROG(16, "syscalls/sys_exit_getegid")
PROG(17, "syscalls/sys_exit_sched_yield")
PROG(18, "sched/sched_process_fork")
PROG(19, "sched/sched_process_free")
