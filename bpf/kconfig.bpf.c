// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: .kconfig externs of every size and alignment libbpf lays out
// (1, 2, 4 and 8-byte integers, bool, tristate, char arrays of odd sizes),
// including strings longer than their arrays, which libbpf truncates with a
// warning. read_kconfig copies every value into .bss (BPF_PROG_TEST_RUN).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig;
extern bool CONFIG_BPF __kconfig;
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig __weak;
extern unsigned long long CONFIG_PHYSICAL_START __kconfig __weak;
extern unsigned short CONFIG_NR_CPUS __kconfig __weak;
extern unsigned char CONFIG_LOG_BUF_SHIFT __kconfig __weak;
/* "(none)" on most kernels: 6 characters cut to 0 and a NUL. */
extern char CONFIG_DEFAULT_HOSTNAME[1] __kconfig;
extern char CONFIG_CC_VERSION_TEXT[5] __kconfig __weak;
extern char CONFIG_LOCALVERSION[13] __kconfig __weak;
extern char CONFIG_DEFAULT_INIT[3] __kconfig __weak;

__u64 kernel_version, hz, bpf, bpf_jit, physical_start, nr_cpus, log_buf_shift;
char hostname[1], cc_version[5], localversion[13], default_init[3];

SEC("syscall")
int read_kconfig(void *ctx)
{
	kernel_version = LINUX_KERNEL_VERSION;
	hz = CONFIG_HZ;
	bpf = CONFIG_BPF;
	bpf_jit = CONFIG_BPF_JIT;
	physical_start = CONFIG_PHYSICAL_START;
	nr_cpus = CONFIG_NR_CPUS;
	log_buf_shift = CONFIG_LOG_BUF_SHIFT;
	__builtin_memcpy(hostname, CONFIG_DEFAULT_HOSTNAME, sizeof(hostname));
	__builtin_memcpy(cc_version, CONFIG_CC_VERSION_TEXT, sizeof(cc_version));
	__builtin_memcpy(localversion, CONFIG_LOCALVERSION, sizeof(localversion));
	__builtin_memcpy(default_init, CONFIG_DEFAULT_INIT, sizeof(default_init));
	return 0;
}
