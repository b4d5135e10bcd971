// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: LINUX_HAS_SYSCALL_WRAPPER, the kconfig extern libbpf fills
// from the same decision that picks the function a ksyscall program probes
// (__x64_sys_openat with wrappers, __se_sys_openat without).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;

__u64 has_wrapper = 2;
__u64 openat_calls;

SEC("syscall")
int read_wrapper(void *ctx)
{
	has_wrapper = LINUX_HAS_SYSCALL_WRAPPER;
	return 0;
}

SEC("ksyscall/openat")
int on_openat(void *ctx)
{
	__sync_fetch_and_add(&openat_calls, 1);
	return 0;
}
