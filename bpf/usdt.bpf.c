// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: USDT probes read through libbpf's BPF-side USDT library
// (<bpf/usdt.bpf.h>, whose maps and spec layout the loader fills in).
// Each hit records bpf_usdt_arg_cnt() and every bpf_usdt_arg() result in
// the hits[] slot named by the attachment's USDT cookie, so a test can
// check each argument of each probe exactly.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

char LICENSE[] SEC("license") = "GPL";

#define MAX_ARGS BPF_USDT_MAX_ARG_CNT
#define SLOTS 32

struct usdt_hit {
	__u64 hits;
	__u32 pid;
	__s32 arg_cnt;
	/* bpf_usdt_arg()'s return value and result, per argument */
	__s32 arg_ret[MAX_ARGS];
	__s64 arg[MAX_ARGS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLOTS);
	__type(key, __u32);
	__type(value, struct usdt_hit);
} hits SEC(".maps");

/* What the auto-attached programs also stream, for `tsbpf load`. */
struct event {
	__u32 slot;
	__s32 arg_cnt;
	__s64 arg0;
	__s64 arg1;
	__s64 arg2;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

/* Slots of the programs attached from their section name. */
enum auto_slot {
	SLOT_AUTO_EXE = SLOTS - 2,
	SLOT_AUTO_LIB = SLOTS - 1,
};
/* Keep these types in the BTF: tests find the slots, `tsbpf load` decodes records as struct event. */
enum auto_slot auto_slot_keep;
struct event event_keep;

static __always_inline int record(struct pt_regs *ctx, __u32 slot)
{
	struct usdt_hit *h = bpf_map_lookup_elem(&hits, &slot);
	long v;
	int i;

	if (!h)
		return 0;
	h->pid = bpf_get_current_pid_tgid() >> 32;
	h->arg_cnt = bpf_usdt_arg_cnt(ctx);
	for (i = 0; i < MAX_ARGS; i++) {
		h->arg_ret[i] = bpf_usdt_arg(ctx, i, &v);
		h->arg[i] = v;
	}
	__sync_fetch_and_add(&h->hits, 1);
	return 0;
}

/* Attached by the test to each probe, with the slot as USDT cookie. */
SEC("usdt")
int on_usdt(struct pt_regs *ctx)
{
	return record(ctx, bpf_usdt_cookie(ctx));
}

static __always_inline void emit(__u32 slot, int arg_cnt, long a0, long a1, long a2)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return;
	e->slot = slot;
	e->arg_cnt = arg_cnt;
	e->arg0 = a0;
	e->arg1 = a1;
	e->arg2 = a2;
	bpf_ringbuf_submit(e, 0);
}

/* Auto-attached: the binary is looked up in $PATH. */
SEC("usdt/tsbpf_usdt_demo:tsbpf:p3")
int BPF_USDT(on_auto_exe, unsigned short d, int e, unsigned int f)
{
	emit(SLOT_AUTO_EXE, bpf_usdt_arg_cnt(ctx), d, e, f);
	return record(ctx, SLOT_AUTO_EXE);
}

/* Auto-attached: the library is looked up in LD_LIBRARY_PATH; arguments through BPF_USDT. */
SEC("usdt/libtsbpf_usdt.so:tsbpf_lib:lp2")
int BPF_USDT(on_auto_lib, int a, long b)
{
	emit(SLOT_AUTO_LIB, bpf_usdt_arg_cnt(ctx), a, b, 0);
	return record(ctx, SLOT_AUTO_LIB);
}
