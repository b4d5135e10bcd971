// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: __weak kfuncs, one this kernel has (bpf_rcu_read_lock) and
// one no kernel has, each called only when its address is non-zero (what
// libbpf's bpf_ksym_exists() tests). The missing one resolves to address 0,
// so the verifier sees its call as dead code and removes it.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* Whether a __weak kernel symbol resolved: a missing one has address 0. */
#define ksym_present(sym) ((unsigned long)&(sym) != 0)

extern void bpf_rcu_read_lock(void) __ksym __weak;
extern void bpf_rcu_read_unlock(void) __ksym __weak;
extern int bpf_tsbpf_no_such_kfunc(int x) __ksym __weak;

__u64 real_present = 2, missing_present = 2, real_called, missing_result = 7;

SEC("syscall")
int call_weak_kfuncs(void *ctx)
{
	real_present = ksym_present(bpf_rcu_read_lock);
	missing_present = ksym_present(bpf_tsbpf_no_such_kfunc);
	if (ksym_present(bpf_rcu_read_lock)) {
		bpf_rcu_read_lock();
		real_called = 1;
		bpf_rcu_read_unlock();
	}
	if (ksym_present(bpf_tsbpf_no_such_kfunc))
		missing_result = bpf_tsbpf_no_such_kfunc(42);
	return 0;
}
