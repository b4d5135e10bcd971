// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: prints, with bpf_printk, the comm of every process that execs
// a binary whose name starts with ESC — what a hostile process name looks
// like in trace_pipe, where the kernel copies %s bytes as they are.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp/sched/sched_process_exec")
int print_exec(void *ctx)
{
	char comm[16];

	bpf_get_current_comm(comm, sizeof(comm));
	if (comm[0] != 0x1b)
		return 0;
	bpf_printk("exec %s", comm);
	return 0;
}
