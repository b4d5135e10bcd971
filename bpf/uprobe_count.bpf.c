// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Example object: counts the calls of a user-space function per process,
// and sums its first argument (attached by symbol name from user space).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct calls {
	__u64 count;
	__u64 arg_sum;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct calls);
} calls_by_pid SEC(".maps");

SEC("uprobe")
int BPF_KPROBE(count_call, long arg)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct calls zero = {}, *c;

	c = bpf_map_lookup_elem(&calls_by_pid, &pid);
	if (!c) {
		bpf_map_update_elem(&calls_by_pid, &pid, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&calls_by_pid, &pid);
		if (!c)
			return 0;
	}
	__sync_fetch_and_add(&c->count, 1);
	__sync_fetch_and_add(&c->arg_sum, arg);
	return 0;
}
