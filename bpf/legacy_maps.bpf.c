// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: maps declared the pre-BTF way, a struct bpf_map_def in
// section "maps" (libbpf < 1.0; iproute2's old ELF loader). libbpf 1.0+
// refuses such objects, and so must tsbpf: skipping the section would load
// a program without the maps it declares.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* The layout libbpf < 1.0 read; libbpf's headers no longer define it. */
struct legacy_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct legacy_map_def SEC("maps") packets = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 1,
};

SEC("socket")
int count_packets(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&packets, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}
