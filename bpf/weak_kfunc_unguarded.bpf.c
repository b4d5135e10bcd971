// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: a __weak kfunc no kernel has, called without checking that
// it resolved. The call cannot be proven dead, so the verifier must refuse
// the program, and the error must name the kfunc.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern int bpf_tsbpf_no_such_kfunc(int x) __ksym __weak;

__u64 result;

SEC("syscall")
int call_missing_kfunc(void *ctx)
{
	result = bpf_tsbpf_no_such_kfunc(42);
	return 0;
}
