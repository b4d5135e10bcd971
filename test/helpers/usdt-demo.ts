/**
 * The USDT test programs, built with gcc (<sys/sdt.h> from systemtap-sdt-dev)
 * into a temporary directory: an executable `tsbpf_usdt_demo` (PIE, -O2:
 * arguments in registers and constants) and the same at -O0 (arguments on
 * the stack), both linking the shared library `libtsbpf_usdt.so`. Probes
 * psem (executable) and lsem (library) have semaphores: they fire only
 * while something is attached, and the program prints the semaphores.
 * Run with "wait", the program prints "ready PID" and waits for a byte on
 * stdin before firing.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const DEMO_C = `#include <sys/sdt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern unsigned short tsbpf_psem_semaphore;
void fire_sem(int64_t g);
void lib_fire(int a, long b);
unsigned short lib_lsem_semaphore(void);

__attribute__((noipa)) void fire(int8_t a, uint8_t b, int16_t c, uint16_t d, int32_t e, uint32_t f, int64_t g, uint64_t h) {
  STAP_PROBE(tsbpf, p0);
  STAP_PROBE1(tsbpf, p1, a);
  STAP_PROBE2(tsbpf, p2, b, c);
  STAP_PROBE3(tsbpf, p3, d, e, f);
  STAP_PROBE6(tsbpf, p6, a, b, e, g, h, 42);
  STAP_PROBE3(tsbpf, pconst, -1, 200, -300000);
  fire_sem(g);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "wait") == 0) {
    char c;
    printf("ready %d\\n", getpid());
    fflush(stdout);
    if (read(0, &c, 1) != 1) return 2;
  }
  fire(-5, 250, -1234, 65000, -100000, 4000000000u, -5000000000000LL, 0xfedcba9876543210ULL);
  lib_fire(-77, 1234567890123L);
  printf("psem=%d lsem=%d\\n", tsbpf_psem_semaphore, lib_lsem_semaphore());
  return 0;
}
`;

/** A translation unit compiled with _SDT_HAS_SEMAPHORES gives its probes semaphores. */
const DEMO_SEM_C = `#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include <stdint.h>
unsigned short tsbpf_psem_semaphore __attribute__((unused)) __attribute__((section(".probes")));
__attribute__((noipa)) void fire_sem(int64_t g) {
  if (tsbpf_psem_semaphore) STAP_PROBE2(tsbpf, psem, g, -7);
}
`;

const LIB_C = `#include <sys/sdt.h>
void lib_fire_sem(int a);
__attribute__((noipa)) void lib_fire(int a, long b) {
  STAP_PROBE2(tsbpf_lib, lp2, a, b);
  lib_fire_sem(a);
}
`;

const LIB_SEM_C = `#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
unsigned short tsbpf_lib_lsem_semaphore __attribute__((unused)) __attribute__((section(".probes")));
__attribute__((noipa)) void lib_fire_sem(int a) {
  if (tsbpf_lib_lsem_semaphore) STAP_PROBE1(tsbpf_lib, lsem, a);
}
unsigned short lib_lsem_semaphore(void) { return tsbpf_lib_lsem_semaphore; }
`;

/**
 * What each probe passes, as bpf_usdt_arg() should read it (a signed long:
 * the u64 0xfedcba9876543210 reads as its two's complement).
 */
export const EXPECTED_ARGS: Record<string, bigint[]> = {
  p0: [],
  p1: [-5n],
  p2: [250n, -1234n],
  p3: [65000n, -100000n, 4000000000n],
  p6: [-5n, 250n, -100000n, -5000000000000n, BigInt.asIntN(64, 0xfedcba9876543210n), 42n],
  pconst: [-1n, 200n, -300000n],
  psem: [-5000000000000n, -7n],
  lp2: [-77n, 1234567890123n],
  lsem: [-77n],
};

export interface UsdtDemo {
  dir: string;
  /** -O2 PIE executable */
  exe: string;
  /** -O0 PIE executable */
  exeO0: string;
  lib: string;
  remove(): void;
}

export function buildUsdtDemo(): UsdtDemo {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-usdt-"));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const demo = file("demo.c", DEMO_C);
  const demoSem = file("demo_sem.c", DEMO_SEM_C);
  const lib = join(dir, "libtsbpf_usdt.so");
  execFileSync("gcc", ["-O2", "-shared", "-fPIC", "-o", lib, file("lib.c", LIB_C), file("lib_sem.c", LIB_SEM_C)]);
  const link = ["-L", dir, "-ltsbpf_usdt", `-Wl,-rpath,${dir}`];
  const exe = join(dir, "tsbpf_usdt_demo");
  const exeO0 = join(dir, "tsbpf_usdt_demo_O0");
  execFileSync("gcc", ["-O2", "-pie", "-fPIE", "-o", exe, demo, demoSem, ...link]);
  execFileSync("gcc", ["-O0", "-pie", "-fPIE", "-o", exeO0, demo, demoSem, ...link]);
  return { dir, exe, exeO0, lib, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
