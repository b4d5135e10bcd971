// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object for map operations from user space: value-only maps (queue,
// stack, bloom filter), a hash, and a hash whose value has a spin lock.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 4);
	__type(value, __u32);
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 4);
	__type(value, __u32);
} stack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__uint(map_extra, 3);
	__type(value, __u32);
} bloom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

struct locked {
	struct bpf_spin_lock lock;
	__u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct locked);
} locked_hash SEC(".maps");

/* Adds 1 to locked_hash[0].count under its lock, and pushes 9 to the queue. */
SEC("syscall")
int bump(void *ctx)
{
	__u32 key = 0, nine = 9;
	struct locked *v = bpf_map_lookup_elem(&locked_hash, &key);

	if (!v)
		return 1;
	bpf_spin_lock(&v->lock);
	v->count++;
	bpf_spin_unlock(&v->lock);
	bpf_map_push_elem(&queue, &nine, 0);
	return 0;
}
