// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Example object: a task iterator printing "pid ppid comm" for each process.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("iter/task")
int list_tasks(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	/* One line per process: its main thread. */
	if (!task || task->pid != task->tgid)
		return 0;
	BPF_SEQ_PRINTF(seq, "%d %d %s\n", task->tgid, task->real_parent->tgid, task->comm);
	return 0;
}
