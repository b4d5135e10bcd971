/** mmap(2) constants (include/uapi/asm-generic/mman-common.h; the same on x86-64 and arm64). */
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
/** Page size of x86-64 (and of most arm64 kernels); BPF mmaps are page-granular. */
export const PAGE_SIZE = 4096;
