// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: a BPF arena map (6.9+), which some kernels refuse with EPERM
// even to root. The error must say what the kernel refused, not blame a
// capability the process has.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16); /* pages */
} arena SEC(".maps");

__u64 runs;

SEC("syscall")
int count_runs(void *ctx)
{
	runs++;
	return 0;
}
