// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Producer for `npm run bench` (bench/): every getpid() of the process whose
// tgid is `target_tgid` writes one 64-byte record with the next sequence
// number into a 16 MiB ring. A failed reserve counts in `dropped`, so
// "received + dropped == seq" holds exactly. Both the libbpf comparator
// (bench/libbpf-bench.c) and tsbpf's bench load this same object.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} rb SEC(".maps");

/* 64 bytes: what a typical tracing event carries. */
struct bench_rec {
	__u64 seq;
	__u64 ts;
	__u32 pid;
	__u32 cpu;
	char comm[16];
	__u64 a;
	__u64 b;
	__u64 c;
};

/* Puts `struct bench_rec` into the object's BTF for the decoder. */
struct bench_rec *unused_bench_rec __attribute__((unused));

__u32 target_tgid = 0; /* set by user space after load (.bss is mmapped) */
__u64 seq = 0;         /* records attempted */
__u64 dropped = 0;     /* reserve failures */
__u64 rb_flags = 0;    /* BPF_RB_NO_WAKEUP / BPF_RB_FORCE_WAKEUP */

SEC("tp/syscalls/sys_enter_getpid")
int produce(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct bench_rec *r;
	__u64 s;

	if (tgid != target_tgid)
		return 0;
	s = seq++;
	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		dropped++;
		return 0;
	}
	r->seq = s;
	r->ts = bpf_ktime_get_ns();
	r->pid = tgid;
	r->cpu = bpf_get_smp_processor_id();
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	r->a = s * 3;
	r->b = s ^ 0x5555;
	r->c = ~s;
	bpf_ringbuf_submit(r, rb_flags);
	return 0;
}
