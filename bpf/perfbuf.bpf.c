// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test and example object for perf buffers (PERF_EVENT_ARRAY):
// emit_sample sends one numbered 64-byte sample per run (trigger it with a
// test run; repeat fills a small ring until the kernel drops samples);
// on_exec sends the pid and command of every exec.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct perf_sample {
	__u32 seq;
	__u32 cpu;
	__u8 pad[56];
};

struct exec_event {
	__u32 pid;
	__u32 ppid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} execs SEC(".maps");

__u32 next_seq = 0;
/* The last of each sent, also readable as globals (and their types are in the BTF for decoders). */
struct perf_sample last_sample = {};
struct exec_event last_exec = {};

SEC("xdp")
int emit_sample(struct xdp_md *ctx)
{
	struct perf_sample s = {};

	/* Test runs of one process are serial: no atomics needed. */
	s.seq = next_seq++;
	s.cpu = bpf_get_smp_processor_id();
	bpf_perf_event_output(ctx, &samples, BPF_F_CURRENT_CPU, &s, sizeof(s));
	last_sample = s;
	return XDP_PASS;
}

SEC("tp/sched/sched_process_exec")
int on_exec(void *ctx)
{
	struct exec_event e = {};
	struct task_struct *task = (void *)bpf_get_current_task();

	e.pid = bpf_get_current_pid_tgid() >> 32;
	e.ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_get_current_comm(&e.comm, sizeof(e.comm));
	bpf_perf_event_output(ctx, &execs, BPF_F_CURRENT_CPU, &e, sizeof(e));
	last_exec = e;
	return 0;
}
