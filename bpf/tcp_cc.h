/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A tiny TCP congestion control for the struct_ops test objects: slow
 * start, then one segment more per window (Reno without fast recovery).
 * Every callback counts its runs in calls[], so a test can see the kernel
 * used it. Included by struct_ops.bpf.c and struct_ops_link.bpf.c, which
 * register it in the two ways the kernel offers.
 */
#ifndef TSBPF_TCP_CC_H
#define TSBPF_TCP_CC_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

enum callback {
	CB_INIT,
	CB_SSTHRESH,
	CB_CONG_AVOID,
	CB_UNDO_CWND,
	CB_SET_STATE,
	CB_COUNT
};

__u64 calls[CB_COUNT];
/* Keeps enum callback in the BTF, so tests can find slots by name. */
enum callback callback_count = CB_COUNT;

static __always_inline struct tcp_sock *tcp_of(struct sock *sk)
{
	return (struct tcp_sock *)sk;
}

SEC("struct_ops")
void BPF_PROG(tsbpf_cc_init, struct sock *sk)
{
	__sync_fetch_and_add(&calls[CB_INIT], 1);
}

SEC("struct_ops")
__u32 BPF_PROG(tsbpf_cc_ssthresh, struct sock *sk)
{
	const struct tcp_sock *tp = tcp_of(sk);
	__u32 half = tp->snd_cwnd >> 1;

	__sync_fetch_and_add(&calls[CB_SSTHRESH], 1);
	return half > 2 ? half : 2;
}

SEC("struct_ops")
void BPF_PROG(tsbpf_cc_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	struct tcp_sock *tp = tcp_of(sk);

	__sync_fetch_and_add(&calls[CB_CONG_AVOID], 1);
	if (tp->snd_cwnd < tp->snd_ssthresh) {
		/* slow start: one more segment per segment acknowledged */
		tp->snd_cwnd += acked;
		return;
	}
	/* congestion avoidance: one more segment per window */
	if (++tp->snd_cwnd_cnt >= tp->snd_cwnd) {
		tp->snd_cwnd_cnt = 0;
		tp->snd_cwnd++;
	}
}

SEC("struct_ops")
__u32 BPF_PROG(tsbpf_cc_undo_cwnd, struct sock *sk)
{
	__sync_fetch_and_add(&calls[CB_UNDO_CWND], 1);
	return tcp_of(sk)->snd_cwnd;
}

SEC("struct_ops")
void BPF_PROG(tsbpf_cc_set_state, struct sock *sk, __u8 new_state)
{
	__sync_fetch_and_add(&calls[CB_SET_STATE], 1);
}

#define TSBPF_CC_OPS(cc_name)                            \
	{                                                \
		.init = (void *)tsbpf_cc_init,           \
		.ssthresh = (void *)tsbpf_cc_ssthresh,   \
		.cong_avoid = (void *)tsbpf_cc_cong_avoid, \
		.undo_cwnd = (void *)tsbpf_cc_undo_cwnd, \
		.set_state = (void *)tsbpf_cc_set_state, \
		.name = cc_name,                         \
	}

#endif
