// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: a program the verifier must reject (packet read without a
// bounds check), to test that the verifier log reaches the error.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int unchecked_read(struct xdp_md *ctx)
{
	return *(int *)(long)ctx->data;
}
