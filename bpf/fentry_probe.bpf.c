// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// The smallest trampoline program. bpftool loads it as the tests' oracle for
// "does this kernel allow fentry?": some kernels refuse trampolines even to
// root (EPERM), and attach.bpf.o (whose tcx section older bpftools cannot
// place) cannot ask that question through bpftool itself.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("fentry/do_sys_openat2")
int BPF_PROG(probe_fentry, int dfd)
{
	return 0;
}
