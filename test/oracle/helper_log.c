// Test oracle, built against Debian's libbpf-dev: for each "PROG_TYPE HELPER_ID"
// line on stdin, loads the two-instruction program `call HELPER_ID; exit`
// with libbpf's bpf_prog_load() (giving the attach type or flag the program
// type needs to load at all) and prints "PROG_TYPE HELPER_ID ERRNO LINE",
// LINE being the verifier log line that names the helper ("-" if none).
// Shows what the kernel itself says about a helper for a program type.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

int main(void)
{
	int type, id;
	static char log[4096];
	while (scanf("%d %d", &type, &id) == 2) {
		struct bpf_insn insns[2] = {
			{ .code = BPF_JMP | BPF_CALL, .imm = id },
			{ .code = BPF_JMP | BPF_EXIT },
		};
		LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof(log), .log_level = 1);
		switch (type) {
		case BPF_PROG_TYPE_CGROUP_SOCK_ADDR: opts.expected_attach_type = BPF_CGROUP_INET4_CONNECT; break;
		case BPF_PROG_TYPE_CGROUP_SOCKOPT: opts.expected_attach_type = BPF_CGROUP_GETSOCKOPT; break;
		case BPF_PROG_TYPE_SK_LOOKUP: opts.expected_attach_type = BPF_SK_LOOKUP; break;
		case BPF_PROG_TYPE_LIRC_MODE2: opts.expected_attach_type = BPF_LIRC_MODE2; break;
		case BPF_PROG_TYPE_SYSCALL: opts.prog_flags = BPF_F_SLEEPABLE; break;
		}
		log[0] = 0;
		int fd = bpf_prog_load(type, NULL, "GPL", insns, 2, &opts);
		int err = fd < 0 ? errno : 0;
		if (fd >= 0) close(fd);
		char *line = strstr(log, "helper");
		if (!line) line = strstr(log, "func ");
		if (line) {
			while (line > log && line[-1] != '\n') line--;
			*strchrnul(line, '\n') = 0;
		}
		printf("%d %d %d %s\n", type, id, err, line ? line : "-");
	}
	return 0;
}
