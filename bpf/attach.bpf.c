// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: one program per attach kind. Each counts its runs in
// counts[] (.bss), so a test can trigger the attach point and see it fire.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/* Not "slot": a vmlinux.h dumped from 6.1 declares a struct slot. */
enum attach_slot {
	SLOT_RAW_TP,
	SLOT_TP_BTF,
	SLOT_UPROBE,
	SLOT_URETPROBE,
	SLOT_XDP,
	SLOT_TCX,
	SLOT_CGROUP_SKB,
	SLOT_SOCKET,
	SLOT_PERF_EVENT,
	SLOT_KPROBE,
	SLOT_FENTRY,
	SLOT_COUNT
};

__u64 counts[SLOT_COUNT];
/* Keeps enum attach_slot in the BTF, so tests can find slots by name. */
enum attach_slot slot_count = SLOT_COUNT;
/* Only events of this process count (0: any). */
int target_pid = 0;

static __always_inline int mine(void)
{
	return !target_pid || (bpf_get_current_pid_tgid() >> 32) == target_pid;
}

SEC("raw_tp/sys_enter")
int on_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
	if (mine())
		__sync_fetch_and_add(&counts[SLOT_RAW_TP], 1);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_tp_btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__sync_fetch_and_add(&counts[SLOT_TP_BTF], 1);
	return 0;
}

/* Attached by the test to a function of its own choosing (no auto-attach target). */
SEC("uprobe")
int on_uprobe(struct pt_regs *ctx)
{
	if (mine())
		__sync_fetch_and_add(&counts[SLOT_UPROBE], 1);
	return 0;
}

SEC("uretprobe")
int on_uretprobe(struct pt_regs *ctx)
{
	if (mine())
		__sync_fetch_and_add(&counts[SLOT_URETPROBE], 1);
	return 0;
}

SEC("xdp")
int on_xdp(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&counts[SLOT_XDP], 1);
	return XDP_PASS;
}

SEC("tcx/ingress")
int on_tcx(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&counts[SLOT_TCX], 1);
	return 0; /* TCX_NEXT */
}

SEC("cgroup_skb/egress")
int on_cgroup_skb(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&counts[SLOT_CGROUP_SKB], 1);
	return 1; /* allow */
}

SEC("socket")
int on_socket(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&counts[SLOT_SOCKET], 1);
	return skb->len; /* keep the whole packet */
}

SEC("perf_event")
int on_perf_event(struct bpf_perf_event_data *ctx)
{
	__sync_fetch_and_add(&counts[SLOT_PERF_EVENT], 1);
	return 0;
}

/* Kernels built without kprobes load it, and attaching must fail clearly. */
SEC("kprobe/do_sys_openat2")
int on_kprobe(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&counts[SLOT_KPROBE], 1);
	return 0;
}

/* Some kernels refuse trampolines even to root (EPERM): then the load must fail clearly. */
SEC("fentry/do_sys_openat2")
int BPF_PROG(on_fentry, int dfd)
{
	if (mine())
		__sync_fetch_and_add(&counts[SLOT_FENTRY], 1);
	return 0;
}

/* Iterator: one line per task, "pid comm". */
SEC("iter/task")
int dump_tasks(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
	BPF_SEQ_PRINTF(seq, "%d %s\n", task->tgid, task->comm);
	return 0;
}
