// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: a 256 MiB .bss in a tiny file. Loading or inspecting it must
// not cost memory in proportion to the zeros (the kernel zero-fills the map).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define BIG_BSS_BYTES (256u << 20)

unsigned char big[BIG_BSS_BYTES]; /* .bss: 256 MiB of zeros */
int hits = 0;                     /* .data-less counter, also in .bss */

/* Writes the last byte of the array and counts its calls: the map is really that large. */
SEC("xdp")
int touch_end(struct xdp_md *ctx)
{
	big[BIG_BSS_BYTES - 1] += 1;
	hits += 1;
	return big[BIG_BSS_BYTES - 1] + big[0];
}
