// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: a map pinned by name, shared between loads of this object.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} shared_counter SEC(".maps");

/* Adds 1 to the shared counter and returns the new value. */
SEC("xdp")
int bump(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&shared_counter, &key);

	if (!v)
		return 0;
	return __sync_add_and_fetch(v, 1);
}
