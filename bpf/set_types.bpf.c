// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: one .rodata global of each kind of C type `tsbpf load --set`
// parses (integers of every width and signedness, _Bool, an enum, a char
// array, an int array, a struct). The program reads them all, so clang
// keeps them, and returns a value derived from them.
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

enum level { LEVEL_LOW = 1, LEVEL_HIGH = 7 };

struct limits {
	unsigned short lo;
	char tag[4];
	int hi;
};

const volatile bool flag = false;
const volatile unsigned char u8_value = 0;
const volatile signed char s8_value = 0;
const volatile short s16_value = 0;
const volatile unsigned int u32_value = 0;
const volatile int s32_value = 0;
const volatile unsigned long long u64_value = 0;
const volatile long long s64_value = 0;
const volatile enum level level = LEVEL_LOW;
const volatile char label[8] = "none";
const volatile int weights[3] = { 1, 2, 3 };
const volatile struct limits limits = { 1, "abc", 2 };

SEC("socket")
int read_all(struct __sk_buff *skb)
{
	return flag + u8_value + s8_value + s16_value + u32_value + s32_value + u64_value + s64_value + level +
	       label[0] + weights[0] + weights[2] + limits.lo + limits.tag[0] + limits.hi;
}
