// Test oracle, built against Debian's libbpf-dev: loads bpf/core.bpf.o with
// libbpf (core_poison not autoloaded), runs core_all once with
// BPF_PROG_TEST_RUN and prints results[] one value per line, preceded by
// this process's pid. tsbpf's results are compared with these.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

int main(int argc, char **argv)
{
	if (argc != 2) { fprintf(stderr, "usage: %s core.bpf.o\n", argv[0]); return 2; }
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) { perror("open"); return 1; }
	bpf_program__set_autoload(bpf_object__find_program_by_name(obj, "core_poison"), false);
	if (bpf_object__load(obj)) { fprintf(stderr, "load failed\n"); return 1; }
	int prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "core_all"));
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	if (bpf_prog_test_run_opts(prog, &opts)) { perror("test_run"); return 1; }
	struct bpf_map *bss = bpf_object__find_map_by_name(obj, ".bss");
	size_t size = bpf_map__value_size(bss);
	unsigned long long *values = calloc(1, size);
	int key = 0;
	if (bpf_map_lookup_elem(bpf_map__fd(bss), &key, values)) { perror("lookup"); return 1; }
	printf("%d\n", getpid());
	for (size_t i = 0; i < size / 8; i++) printf("%llu\n", values[i]);
	bpf_object__close(obj);
	return 0;
}
