// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: .kconfig externs (LINUX_KERNEL_VERSION, CONFIG_* from the
// kernel config, a __weak one the config lacks), an untyped __ksym, kfunc
// calls, and callbacks (bpf_loop, bpf_for_each_map_elem: BPF_PSEUDO_FUNC).
// Run with BPF_PROG_TEST_RUN; results land in .bss.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF __kconfig;
extern int CONFIG_HZ __kconfig;
extern bool CONFIG_TSBPF_NO_SUCH_OPTION __kconfig __weak;
extern const char CONFIG_LOCALVERSION[16] __kconfig __weak;

/* Untyped ksym: the address of a kernel text symbol, from /proc/kallsyms. */
extern const void bpf_map_put __ksym;

/* kfuncs of 6.2 and later: __weak, called only where the kernel has them. */
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;
extern void bpf_rcu_read_lock(void) __ksym __weak;
extern void bpf_rcu_read_unlock(void) __ksym __weak;

/* Whether a __weak kernel symbol resolved: a missing one has address 0. */
#define ksym_present(sym) ((unsigned long)&(sym) != 0)

__u64 kernel_version, config_bpf, config_hz, missing_option, ksym_addr;
__s32 task_tgid = -1;
__s32 lookup_pid = 0;
__u64 loop_sum, map_sum;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} numbers SEC(".maps");

static long add_index(u64 index, void *ctx)
{
	loop_sum += index;
	return 0;
}

static long add_value(struct bpf_map *map, __u32 *key, __u64 *value, void *ctx)
{
	map_sum += *value;
	return 0;
}

SEC("syscall")
int read_externs(void *ctx)
{
	struct task_struct *t;

	kernel_version = LINUX_KERNEL_VERSION;
	config_bpf = CONFIG_BPF;
	config_hz = CONFIG_HZ;
	missing_option = CONFIG_TSBPF_NO_SUCH_OPTION;
	ksym_addr = (__u64)&bpf_map_put;

	if (ksym_present(bpf_task_from_pid) && ksym_present(bpf_task_release)) {
		t = bpf_task_from_pid(lookup_pid);
		if (t) {
			task_tgid = t->tgid;
			bpf_task_release(t);
		}
	}
	if (ksym_present(bpf_rcu_read_lock) && ksym_present(bpf_rcu_read_unlock)) {
		bpf_rcu_read_lock();
		bpf_rcu_read_unlock();
	}

	bpf_loop(10, add_index, NULL, 0);
	bpf_for_each_map_elem(&numbers, add_value, NULL, 0);
	return 0;
}
