// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: kfunc externs with `___flavour` suffixes, as code written for
// several kernels declares them. The suffix is dropped to find the kernel's
// kfunc, and a flavour binds only when its prototype is compatible with the
// kernel's: the right one resolves, the wrong one (a __weak extern with an
// int argument the kernel's bpf_rcu_read_lock does not take) reads as 0.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define ksym_present(sym) ((unsigned long)&(sym) != 0)

extern void bpf_rcu_read_lock___right(void) __ksym __weak;
extern int bpf_rcu_read_lock___wrong_proto(int x) __ksym __weak;
extern void bpf_rcu_read_unlock(void) __ksym __weak;

__u64 right_present = 2, wrong_present = 2, right_called;

SEC("syscall")
int call_flavours(void *ctx)
{
	right_present = ksym_present(bpf_rcu_read_lock___right);
	wrong_present = ksym_present(bpf_rcu_read_lock___wrong_proto);
	if (ksym_present(bpf_rcu_read_lock___right) && ksym_present(bpf_rcu_read_unlock)) {
		bpf_rcu_read_lock___right();
		right_called = 1;
		bpf_rcu_read_unlock();
	}
	if (ksym_present(bpf_rcu_read_lock___wrong_proto))
		right_called = bpf_rcu_read_lock___wrong_proto(1);
	return 0;
}
