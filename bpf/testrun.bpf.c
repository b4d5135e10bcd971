// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object for BPF_PROG_TEST_RUN: one program per program type whose
// test run takes a different set of fields.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* Socket filter: keeps the whole packet (returns its length). */
SEC("socket")
int sock_len(struct __sk_buff *skb)
{
	return skb->len;
}

/* XDP: grows the packet by 32 bytes, filled with 0xab; the output is larger than the input. */
SEC("xdp")
int xdp_grow(struct xdp_md *ctx)
{
	void *data, *data_end;
	__u32 len;

	len = ctx->data_end - ctx->data;
	if (bpf_xdp_adjust_tail(ctx, 32))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	for (int i = 0; i < 32; i++) {
		__u8 *p = data + (len & 0xfff) + i;
		if ((void *)(p + 1) > data_end)
			break;
		*p = 0xab;
	}
	return XDP_PASS;
}

/* XDP for live frames: counts the frames it sees, drops them. */
__u64 live_frames = 0;

SEC("xdp")
int xdp_count_drop(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&live_frames, 1);
	return XDP_DROP;
}

/* raw_tp: records the CPU it ran on and its first argument; returns 42. */
__u32 ran_on_cpu = 0xffffffff;
__u64 first_arg = 0;

SEC("raw_tp/sys_enter")
int raw_tp_cpu(struct bpf_raw_tracepoint_args *ctx)
{
	ran_on_cpu = bpf_get_smp_processor_id();
	first_arg = ctx->args[0];
	return 42;
}

/* SYSCALL: reads and writes its context in place. */
struct double_args {
	__u64 in;
	__u64 out;
};

SEC("syscall")
int double_it(struct double_args *args)
{
	args->out = args->in * 2;
	return 7;
}
