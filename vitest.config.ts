import { defineConfig } from "vitest/config";

/**
 * Pure tests: no root, no kernel, no built dist/ (ELF, BTF, CO-RE, disassembler,
 * encoders, the strace printer, the ring reader on plain memory). They run
 * anywhere with `npm run test:unit`; everything else needs root and a kernel.
 */
export const UNIT_TESTS = [
  "test/abi-layouts.test.ts",
  "test/abi-types.test.ts",
  "test/btf-encode.test.ts",
  "test/btf-ext.test.ts",
  "test/btf-malformed.test.ts",
  "test/btf.test.ts",
  "test/core-unit.test.ts",
  "test/core.test.ts",
  "test/disasm.test.ts",
  "test/elf.test.ts",
  "test/fuzz-regressions.test.ts",
  "test/ringbuf-memory.test.ts",
  "test/strace-format.test.ts",
  "test/value-decoder.test.ts",
  "test/**/*.unit.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: "unit", include: UNIT_TESTS } },
      {
        extends: true,
        test: {
          name: "kernel",
          include: ["test/**/*.test.ts"],
          exclude: UNIT_TESTS,
          // Real-kernel tests share trace_pipe, tracepoints and the fd table: one file at a time.
          fileParallelism: false,
          // Removes the pins of crashed runs before, and whatever this run left pinned after.
          globalSetup: ["test/global-setup.ts"],
        },
      },
    ],
  },
});
