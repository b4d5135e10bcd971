// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object for editing a spec before load: a program in a section name
// no loader convention knows (its type is set from user space), a map whose
// size the object leaves to user space (max_entries 0, as libbpf-tools
// declare theirs), a map whose value size user space sets, and a counter
// that two objects can share.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* No max_entries: sized before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
} sized_later SEC(".maps");

/* Declared with an 8-byte value; user space widens it. The programs use the first 8 bytes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} wide SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counter SEC(".maps");

/* A custom section: its type comes from user space (a socket filter here). Bumps the counter. */
SEC("tsbpf_custom/bump")
int custom_bump(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&counter, &key);

	if (!v)
		return 0;
	return __sync_add_and_fetch(v, 1);
}

/* Inserts keys 0..15 into sized_later; returns how many fitted. Also marks wide[0]. */
SEC("xdp")
int fill(struct xdp_md *ctx)
{
	__u64 one = 1;
	__u32 key = 0;
	int fitted = 0;
	__u64 *w = bpf_map_lookup_elem(&wide, &key);

	if (w)
		*w = 0x5157;
	for (__u32 i = 0; i < 16; i++) {
		if (bpf_map_update_elem(&sized_later, &i, &one, BPF_NOEXIST) == 0)
			fitted++;
	}
	return fitted;
}
