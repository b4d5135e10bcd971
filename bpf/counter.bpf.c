// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test and example object for pinning: counts the execs of the children of
// one process (target_ppid; 0: every exec) in a map, so that a pinned link
// can be seen to keep counting after the process that made it is gone.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

const volatile int target_ppid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} exec_count SEC(".maps");

SEC("tp/sched/sched_process_exec")
int count_exec(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	__u32 key = 0;
	__u64 *n;

	if (target_ppid && BPF_CORE_READ(task, real_parent, tgid) != target_ppid)
		return 0;
	n = bpf_map_lookup_elem(&exec_count, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}
