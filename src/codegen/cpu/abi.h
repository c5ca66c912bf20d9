// The plain C interface between the runtime and a generated CPU kernel. The same text is
// compiled into the runtime and pasted into every generated file (JAGTILE_CPU_ABI_TEXT), so the
// two sides can never disagree on a layout.
#pragma once

#include <stdint.h>

#define JAGTILE_CPU_ABI(...) \
  __VA_ARGS__                \
  static const char* const jagtile_cpu_abi_text = #__VA_ARGS__;

JAGTILE_CPU_ABI(
    enum {JT_MAX_RANK = 8};
    /* A tensor as the generated code sees it: contiguous, row-major. */
    struct JtTensor {
      void* data;
      int64_t size[JT_MAX_RANK];
      int32_t rank;
      int32_t slot;
    };
    /* The first failure of a run; code 0 means none. */
    struct JtError {
      int32_t code;   /* 1 bounds, 2 assert, 3 host callback failed, 4 division by zero,
                         5 allocation on a device other than the CPU,
                         6 host integer overflow; index/extent hold the operands,
                         7 a full dimension's size is negative or too large */
      int32_t site;   /* index into the emitter's site table */
      int64_t index;  /* bounds: the offending index */
      int64_t extent; /* bounds: the dimension's size */
      int32_t dim;    /* bounds: which dimension */
      int32_t pad;
    };
    typedef void (*JtRangeFn)(void* env, int64_t begin, int64_t end);
    /* What the runtime hands a generated kernel. */
    struct JtHost {
      void* ctx;
      /* Creates a tensor; kind 0 zeros, 1 empty, 2 full(fill). Non-zero on failure. */
      int (*alloc)(void* ctx, JtTensor* out, int32_t dtype, int32_t rank, const int64_t* sizes,
                   int32_t kind, double fill, int32_t site);
      /* A view of `src` (one size may be -1). Non-zero on failure. */
      int (*view)(void* ctx, JtTensor* out, const JtTensor* src, int32_t rank, const int64_t* sizes,
                  int32_t site);
      /* Runs fn(env, b, e) over disjoint ranges covering [0, n), possibly in parallel. */
      void (*parallel_for)(void* ctx, int64_t n, JtRangeFn fn, void* env);
      /* Arguments: tensors (slot = parameter index) and scalars, by parameter index. */
      JtTensor* params;
      const int64_t* int_args;
      const double* float_args;
      JtError* error;
      /* Filled by the kernel's return: the returned tensors' slots. */
      int32_t* returns;
      int32_t num_returns;
      int32_t max_returns;
    };)

#define JAGTILE_CPU_ABI_TEXT jagtile_cpu_abi_text
