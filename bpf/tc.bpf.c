// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test and example object: tc (cls_bpf, direct-action) programs.
// tc_ingress looks at UDP datagrams to port 7777 and decides by their first
// payload byte: 'd' drops the packet, 'r' rewrites that byte to 'R', anything
// else passes. tc_egress counts what leaves. tc_mark (for BPF_PROG_TEST_RUN)
// adds 1 to skb->mark and grows the packet by 16 bytes.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define ETH_P_IP 0x0800
#define UDP_PORT 7777

__u64 ingress_seen = 0;
__u64 ingress_dropped = 0;
__u64 ingress_rewritten = 0;
__u64 egress_seen = 0;

SEC("tc")
int tc_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp;
	__u8 *payload;
	__u32 udp_off, payload_off;
	__u16 old_word, new_word;

	__sync_fetch_and_add(&ingress_seen, 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
		return TC_ACT_OK;
	udp = (void *)(ip + 1);
	payload = (void *)(udp + 1);
	if ((void *)(payload + 2) > data_end || udp->dest != bpf_htons(UDP_PORT))
		return TC_ACT_OK;
	if (payload[0] == 'd') {
		__sync_fetch_and_add(&ingress_dropped, 1);
		return TC_ACT_SHOT;
	}
	if (payload[0] == 'r') {
		udp_off = sizeof(*eth) + sizeof(*ip);
		payload_off = udp_off + sizeof(*udp);
		old_word = *(__u16 *)payload;
		((__u8 *)&new_word)[0] = 'R';
		((__u8 *)&new_word)[1] = payload[1];
		/* The payload's first 16-bit word changes: fix the UDP checksum with it. */
		bpf_l4_csum_replace(skb, udp_off + offsetof(struct udphdr, check), old_word, new_word, BPF_F_MARK_MANGLED_0 | 2);
		bpf_skb_store_bytes(skb, payload_off, &new_word, 2, 0);
		__sync_fetch_and_add(&ingress_rewritten, 1);
	}
	return TC_ACT_OK;
}

SEC("tc")
int tc_egress(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&egress_seen, 1);
	return TC_ACT_OK;
}

SEC("classifier")
int tc_mark(struct __sk_buff *skb)
{
	skb->mark += 1;
	if (bpf_skb_change_tail(skb, skb->len + 16, 0))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}
