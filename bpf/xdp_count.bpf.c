// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Example object: counts the packets an interface receives, per IP
// protocol (ICMP, TCP, UDP, ...; 0 for non-IP), and lets them all pass.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP 0x0800

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} packets SEC(".maps");

SEC("xdp")
int count_packets(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u32 proto = 0;
	__u64 *n;

	if ((void *)(ip + 1) <= data_end && eth->h_proto == bpf_htons(ETH_P_IP))
		proto = ip->protocol;
	n = bpf_map_lookup_elem(&packets, &proto);
	if (n)
		*n += 1;
	return XDP_PASS;
}
