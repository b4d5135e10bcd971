// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: bpf_metadata_* variables in .rodata, which bpftool prints as
// `metadata:` lines of every program the .rodata map is bound to. count_calls
// never reads .rodata, so it holds the map only through BPF_PROG_BIND_MAP;
// read_version reads it, so its instructions already reference it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

volatile const char bpf_metadata_name[] SEC(".rodata") = "tsbpf metadata fixture";
volatile const unsigned int bpf_metadata_version SEC(".rodata") = 3;

__u64 calls;
__u32 version;

SEC("syscall")
int count_calls(void *ctx)
{
	__sync_fetch_and_add(&calls, 1);
	return 0;
}

SEC("syscall")
int read_version(void *ctx)
{
	version = bpf_metadata_version;
	return 0;
}
