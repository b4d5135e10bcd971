// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: every kind of global data section and static subprogram calls.
// Run with BPF_PROG_TEST_RUN; each program's return value is checked in tests.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

int counter = 0;                         /* .bss */
int seeded = 42;                         /* .data */
const volatile int knob = 7;             /* .rodata, settable before load */
int custom_data SEC(".data.custom") = 5; /* .data.custom */
const volatile int custom_ro SEC(".rodata.custom") = 100;
unsigned long long big_bss[4];           /* more .bss, 8-aligned */

static __attribute__((noinline)) int add3(int a, int b, int c)
{
	return a + b + c;
}

static __attribute__((noinline)) int twice(int x)
{
	return add3(x, x, 0);
}

/* Only used by the second program, so each program gets its own copy. */
static __attribute__((noinline)) int bump(void)
{
	counter += 1;
	big_bss[3] = counter;
	return counter;
}

SEC("xdp")
int sum_globals(struct xdp_md *ctx)
{
	/* 42 + 7 + 5 + 100 = 154 with the defaults */
	return add3(seeded, knob, custom_data) + custom_ro;
}

SEC("xdp")
int count_calls(struct xdp_md *ctx)
{
	return twice(bump());
}

SEC("socket")
int sock_prog(struct __sk_buff *skb)
{
	bpf_printk("socket %d", knob);
	return 0;
}
