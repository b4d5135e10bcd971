// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object for the ring buffer reader. Every program is XDP so that
// BPF_PROG_TEST_RUN with `repeat = N` runs it exactly N times: N records
// produced on demand, from JS, with no tracepoint or timing involved.
//
// Each run takes the next sequence number (`seq`, in .bss) whether or not
// the record fits, and counts a failed reserve/output in `dropped`, so a
// reader can check "received + dropped == seq" exactly and that the
// sequence numbers it received only ever increase.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "bootstrap.h"

char LICENSE[] SEC("license") = "GPL";

/* The main ring: 64 KiB holds 2730 24-byte records (2047 when overfilled, see the test). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} rb SEC(".maps");

/* A second ring, for several rings in one poller. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024);
} rb2 SEC(".maps");

/* A large ring for throughput measurements. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} big SEC(".maps");

struct rec {
	__u64 seq;
	__u32 ring; /* which ring it was written to: 0 rb, 1 rb2, 2 big */
	__u32 len;  /* bytes in the record, this header included */
};

/* Record types only reach BTF through a global that uses them (locals carry no
 * BTF): these put `struct rec` and `struct event` there for the decoder. */
struct rec *unused_rec __attribute__((unused));
struct event *unused_event __attribute__((unused));

__u64 seq = 0;       /* next sequence number; == records attempted */
__u64 dropped = 0;   /* reserve/output failures */
__u64 discarded = 0; /* records reserved then discarded */
__u32 target = 0;    /* ring for `produce`: 0 rb, 1 rb2, 2 big */
__u64 rb_flags = 0;  /* BPF_RB_NO_WAKEUP / BPF_RB_FORCE_WAKEUP for submit */

static __always_inline int fill(struct rec *r, __u64 s, __u32 ring)
{
	if (!r) {
		dropped++;
		return XDP_PASS;
	}
	r->seq = s;
	r->ring = ring;
	r->len = sizeof(*r);
	bpf_ringbuf_submit(r, rb_flags);
	return XDP_PASS;
}

/* One fixed-size record per run, reserve + submit, into the ring `target` names. */
SEC("xdp")
int produce(struct xdp_md *ctx)
{
	__u64 s = seq++;

	if (target == 1)
		return fill(bpf_ringbuf_reserve(&rb2, sizeof(struct rec), 0), s, 1);
	if (target == 2)
		return fill(bpf_ringbuf_reserve(&big, sizeof(struct rec), 0), s, 2);
	return fill(bpf_ringbuf_reserve(&rb, sizeof(struct rec), 0), s, 0);
}

/* bpf_ringbuf_output of 9..24 bytes: lengths that are not multiples of 8. */
SEC("xdp")
int output_var(struct xdp_md *ctx)
{
	__u8 buf[24] = {};
	__u64 s = seq++;
	__u64 len = 9 + (s & 15);
	int i;

	__builtin_memcpy(buf, &s, sizeof(s));
#pragma unroll
	for (i = 8; i < 24; i++)
		buf[i] = (__u8)(s + i);
	if (bpf_ringbuf_output(&rb, buf, len, rb_flags))
		dropped++;
	return XDP_PASS;
}

/* Reserves every record, submits the even ones and discards the odd ones. */
SEC("xdp")
int discard_odd(struct xdp_md *ctx)
{
	__u64 s = seq++;
	struct rec *r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);

	if (!r) {
		dropped++;
		return XDP_PASS;
	}
	r->seq = s;
	r->ring = 0;
	r->len = sizeof(*r);
	if (s & 1) {
		discarded++;
		bpf_ringbuf_discard(r, 0);
	} else {
		bpf_ringbuf_submit(r, 0);
	}
	return XDP_PASS;
}

/* bootstrap's `struct event`, with known contents, for the BTF-driven decoder. */
SEC("xdp")
int emit_event(struct xdp_md *ctx)
{
	__u64 s = seq++;
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e) {
		dropped++;
		return XDP_PASS;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->pid = (int)s;
	e->ppid = -7;
	e->exit_code = 0xfffffff0;
	e->duration_ns = 0x20000000000001ULL + s; /* above 2^53: must decode as an exact bigint */
	__builtin_memcpy(e->comm, "ringbuf_test", 13);
	__builtin_memcpy(e->filename, "/usr/bin/true", 14);
	e->exit_event = s & 1;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}
