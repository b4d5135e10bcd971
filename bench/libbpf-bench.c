// SPDX-License-Identifier: MIT
// The libbpf side of `npm run bench`: the same measurements as
// bench/tsbpf-bench.mjs, done with Debian's libbpf-dev (1.1.x). Every
// subcommand prints one JSON object on stdout.
//
//   libbpf-bench load <obj> <iters> [attach]  open+load (cold = first, warm = median
//                                              of the rest); with "attach": attach
//                                              and detach every program too
//   libbpf-bench drain <obj> <rounds>         fill the ring, time ring_buffer__consume
//   libbpf-bench stream <obj> <records>       live producer (child), epoll consumer
//   libbpf-bench rss <obj>                    VmRSS after open+load+attach
//   libbpf-bench cli <obj>                    open+load+attach, print "attached", exit
//   libbpf-bench spin <n>                     wait for a byte on stdin, then n getpid()s
//
// Build: make -C bench   (cc -O2 ... -lbpf -lelf -lz)
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct bench_rec {
	uint64_t seq;
	uint64_t ts;
	uint32_t pid;
	uint32_t cpu;
	char comm[16];
	uint64_t a, b, c;
};

/* The .bss of bench_ringbuf.bpf.c, in declaration order (u32 then u64s: padded). */
struct bench_bss {
	uint32_t target_tgid;
	uint32_t pad;
	uint64_t seq;
	uint64_t dropped;
	uint64_t rb_flags;
};

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, args);
	return 0;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "libbpf-bench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static struct bpf_object *open_load(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	int err = libbpf_get_error(obj);
	if (err)
		die("open", err);
	err = bpf_object__load(obj);
	if (err)
		die("load", err);
	return obj;
}

static int attach_all(struct bpf_object *obj, struct bpf_link **links, int max)
{
	struct bpf_program *prog;
	int n = 0;
	bpf_object__for_each_program(prog, obj) {
		if (n == max)
			break;
		links[n] = bpf_program__attach(prog);
		if (libbpf_get_error(links[n]))
			die("attach", (int)libbpf_get_error(links[n]));
		n++;
	}
	return n;
}

static int cmd_load(const char *path, int iters, int attach)
{
	double *warm = calloc(iters, sizeof(double));
	double *att = calloc(iters, sizeof(double));
	double *det = calloc(iters, sizeof(double));
	double cold = 0;
	int nwarm = 0;
	for (int i = 0; i < iters; i++) {
		double t0 = now_us();
		struct bpf_object *obj = open_load(path);
		double t1 = now_us();
		if (i == 0)
			cold = t1 - t0;
		else
			warm[nwarm++] = t1 - t0;
		if (attach) {
			struct bpf_link *links[16];
			double t2 = now_us();
			int n = attach_all(obj, links, 16);
			double t3 = now_us();
			for (int k = 0; k < n; k++)
				bpf_link__destroy(links[k]);
			double t4 = now_us();
			att[i] = t3 - t2;
			det[i] = t4 - t3;
		}
		bpf_object__close(obj);
	}
	printf("{\"cold_us\":%.1f,\"warm_us\":%.1f", cold, median(warm, nwarm));
	if (attach)
		printf(",\"attach_us\":%.1f,\"detach_us\":%.1f", median(att, iters), median(det, iters));
	printf(",\"iters\":%d}\n", iters);
	return 0;
}

/* ---- ring buffer ------------------------------------------------------- */

struct consumer {
	uint64_t received;
	uint64_t next_seq;
	uint64_t bad;
	uint64_t target;
	double t_last;
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct consumer *c = ctx;
	const struct bench_rec *r = data;
	if (r->seq != c->next_seq)
		c->bad++;
	c->next_seq = r->seq + 1;
	c->received++;
	return 0;
}

static int on_record_stream(void *ctx, void *data, size_t size)
{
	struct consumer *c = ctx;
	on_record(ctx, data, size);
	if (c->received == c->target)
		c->t_last = now_us();
	return 0;
}

static struct bench_bss *bss_of(struct bpf_object *obj)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, "bench_ri.bss");
	if (!m)
		die("no .bss map", ENOENT);
	/* libbpf 1.1 maps global data over its initial-value page only in
	 * bpf_object__load_skeleton; without a skeleton, mmap the map here. */
	void *p = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(m), 0);
	if (p == MAP_FAILED)
		die("mmap .bss", errno);
	return p;
}

static int ring_capacity(struct bpf_object *obj)
{
	struct bpf_map *rb = bpf_object__find_map_by_name(obj, "rb");
	/* each record: 8-byte header + 64 bytes; keep a little room for stray getpid()s */
	return bpf_map__max_entries(rb) / (8 + sizeof(struct bench_rec)) - 64;
}

static int cmd_drain(const char *path, int rounds)
{
	struct bpf_object *obj = open_load(path);
	struct bench_bss *bss = bss_of(obj);
	struct bpf_link *links[4];
	int nl = attach_all(obj, links, 4);
	struct consumer c = {0};
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "rb")), on_record, &c, NULL);
	if (!rb)
		die("ring_buffer__new", errno);
	int cap = ring_capacity(obj);
	double *rates = calloc(rounds, sizeof(double));
	uint64_t total = 0;
	bss->target_tgid = getpid();
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < cap; i++)
			syscall(SYS_getpid);
		uint64_t before = c.received;
		double t0 = now_us();
		int n = ring_buffer__consume(rb);
		double t1 = now_us();
		if (n < 0)
			die("consume", n);
		uint64_t got = c.received - before;
		total += got;
		rates[r] = got / ((t1 - t0) / 1e6);
		if (getenv("BENCH_DEBUG"))
			fprintf(stderr, "round %d: %.0f/s\n", r, rates[r]);
	}
	bss->target_tgid = 0;
	double first = rates[0];
	printf("{\"records_per_s\":%.0f,\"first_per_s\":%.0f,\"records_per_round\":%d,\"received\":%llu,\"dropped\":%llu,\"out_of_order\":%llu}\n",
	       median(rates, rounds), first, cap, (unsigned long long)total, (unsigned long long)bss->dropped, (unsigned long long)c.bad);
	ring_buffer__free(rb);
	for (int k = 0; k < nl; k++)
		bpf_link__destroy(links[k]);
	bpf_object__close(obj);
	return 0;
}

static void spin(long n, int in_fd)
{
	char b;
	if (read(in_fd, &b, 1) != 1)
		_exit(2);
	for (long i = 0; i < n; i++)
		syscall(SYS_getpid);
}

static int cmd_stream(const char *path, long records)
{
	struct bpf_object *obj = open_load(path);
	struct bench_bss *bss = bss_of(obj);
	struct bpf_link *links[4];
	int nl = attach_all(obj, links, 4);
	struct consumer c = {.target = records};
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "rb")), on_record_stream, &c, NULL);
	if (!rb)
		die("ring_buffer__new", errno);
	int go[2];
	if (pipe(go))
		die("pipe", errno);
	pid_t child = fork();
	if (child == 0) {
		close(go[1]);
		spin(records, go[0]);
		_exit(0);
	}
	close(go[0]);
	bss->target_tgid = child;
	double t0 = now_us();
	if (write(go[1], "g", 1) != 1)
		die("write", errno);
	int exited = 0;
	while (c.received + bss->dropped < (uint64_t)records) {
		int n = ring_buffer__poll(rb, 100);
		if (n < 0 && n != -EINTR)
			die("poll", n);
		if (!exited && waitpid(child, NULL, WNOHANG) == child)
			exited = 1;
		if (exited && n == 0 && ring_buffer__consume(rb) == 0 && c.received + bss->dropped < (uint64_t)records)
			break; /* producer gone and nothing left */
	}
	if (!exited)
		waitpid(child, NULL, 0);
	double t1 = c.t_last ? c.t_last : now_us();
	printf("{\"records_per_s\":%.0f,\"received\":%llu,\"dropped\":%llu,\"produced\":%llu,\"out_of_order\":%llu}\n",
	       c.received / ((t1 - t0) / 1e6), (unsigned long long)c.received, (unsigned long long)bss->dropped,
	       (unsigned long long)bss->seq, (unsigned long long)c.bad);
	ring_buffer__free(rb);
	for (int k = 0; k < nl; k++)
		bpf_link__destroy(links[k]);
	bpf_object__close(obj);
	return 0;
}

static long vm_rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	libbpf_set_print(silent);
	if (argc < 3) {
		fprintf(stderr, "usage: libbpf-bench load|drain|stream|rss|cli|spin ...\n");
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "spin")) {
		spin(atol(argv[2]), 0);
		return 0;
	}
	if (!strcmp(cmd, "load"))
		return cmd_load(argv[2], argc > 3 ? atoi(argv[3]) : 10, argc > 4 && !strcmp(argv[4], "attach"));
	if (!strcmp(cmd, "drain"))
		return cmd_drain(argv[2], argc > 3 ? atoi(argv[3]) : 5);
	if (!strcmp(cmd, "stream"))
		return cmd_stream(argv[2], argc > 3 ? atol(argv[3]) : 1000000);
	if (!strcmp(cmd, "rss") || !strcmp(cmd, "cli")) {
		struct bpf_object *obj = open_load(argv[2]);
		struct bpf_link *links[16];
		int n = attach_all(obj, links, 16);
		if (!strcmp(cmd, "cli")) {
			fprintf(stderr, "libbpf-bench: attached\n");
		} else {
			printf("{\"rss_kb\":%ld}\n", vm_rss_kb());
		}
		fflush(stdout);
		for (int k = 0; k < n; k++)
			bpf_link__destroy(links[k]);
		bpf_object__close(obj);
		return 0;
	}
	fprintf(stderr, "libbpf-bench: unknown command %s\n", cmd);
	return 2;
}
