// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: one BTF-defined map of each common type, map-in-map with
// static inner initialisers, and a program array with .values (tail calls).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct point { __u32 x; __s32 y; __u64 z; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, struct point);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} percpu_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __u64);
	__type(value, __u64);
} percpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} lru_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} lru_percpu_hash SEC(".maps");

struct lpm_key { __u32 prefixlen; __u8 addr[4]; };

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_key);
	__type(value, __u32);
} lpm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 8);
	__type(value, __u32);
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 8);
	__type(value, __u32);
} stack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__uint(map_extra, 3);
	__type(value, __u32);
} bloom SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

struct inner inner_a SEC(".maps");
struct inner inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer_array SEC(".maps") = {
	.values = { &inner_a, &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} outer_hash SEC(".maps") = {
	.values = { [3] = &inner_b },
};

int tail_target(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, int (void *));
} jump SEC(".maps") = {
	.values = { [1] = (void *)&tail_target },
};

SEC("xdp")
int tail_target(struct xdp_md *ctx)
{
	return 42;
}

/* Returns 42 through the tail call, or 7 if the slot is empty. */
SEC("xdp")
int tail_caller(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jump, 1);
	return 7;
}

/* Reads through the map-in-map: inner_b's slot 0, found at outer_array[1]. */
SEC("xdp")
int read_inner(struct xdp_md *ctx)
{
	__u32 key = 1, zero = 0;
	void *inner = bpf_map_lookup_elem(&outer_array, &key);
	__u32 *v;

	if (!inner)
		return 1;
	v = bpf_map_lookup_elem(inner, &zero);
	return v ? *v : 2;
}

/* Touches the remaining maps so they are all referenced by a program. */
SEC("xdp")
int touch_all(struct xdp_md *ctx)
{
	__u32 k = 0, v = 1;
	struct point p = { 1, -2, 3 };
	__u64 k64 = 1, v64 = 2;
	struct lpm_key lk = { 32, { 10, 0, 0, 1 } };

	bpf_map_update_elem(&hash, &k, &p, BPF_ANY);
	bpf_map_update_elem(&array, &k, &v64, BPF_ANY);
	bpf_map_lookup_elem(&percpu_array, &k);
	bpf_map_update_elem(&percpu_hash, &k64, &v64, BPF_ANY);
	bpf_map_update_elem(&lru_hash, &k, &v, BPF_ANY);
	bpf_map_update_elem(&lru_percpu_hash, &k, &v, BPF_ANY);
	bpf_map_update_elem(&lpm, &lk, &v, BPF_ANY);
	bpf_map_push_elem(&queue, &v, 0);
	bpf_map_push_elem(&stack, &v, 0);
	bpf_ringbuf_output(&ring, &v, sizeof(v), 0);
	bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &v, sizeof(v));
	bpf_map_push_elem(&bloom, &v, 0);
	return 0;
}
