// The plain C interface between the runtime and a generated CPU kernel. The same text is
// compiled into the runtime and pasted into every generated file (JAGTILE_CPU_ABI_TEXT), so the
// two sides can never disagree on a layout or a code.
//
// A generated file exports one function per device nest (outermost loop) of the kernel; the
// host part of the kernel runs on the runtime's host executor, which calls them. Each runs the
// programs [begin, end) of its loop on the captured host values and records the first failure
// in the shared JtError.
#pragma once

#include <stdint.h>

#define JAGTILE_CPU_ABI(...) \
  __VA_ARGS__                \
  static const char* const jagtile_cpu_abi_text = #__VA_ARGS__;

JAGTILE_CPU_ABI(
    enum {JT_MAX_RANK = 8};
    /* Failure codes of JtError::code. */
    enum {
        JT_OK = 0, JT_ERR_BOUNDS = 1, /* an access out of bounds: index, extent, dim */
        JT_ERR_ASSERT = 2,            /* an assert inside a device loop failed */
        JT_ERR_DIV_ZERO = 4, /* host integer division by zero: index, extent = the operands */
        JT_ERR_OVERFLOW = 6, /* host integer overflow: index, extent = the operands */
        JT_ERR_TILE_SIZE = 7 /* a full dimension's size is negative or too large: index */
    };
    /* A tensor as the generated code sees it: contiguous, row-major. */
    struct JtTensor {
      void* data;
      int64_t size[JT_MAX_RANK];
      int32_t rank;
      int32_t pad;
    };
    /* The failure a run reports; code JT_OK means none. The generated C++ keeps the first one
       recorded; a CUDA launch, whose blocks fail in no set order, keeps the least by (program,
       site, position), guarded by `lock`, so that it reports what the interpreter reports. */
    struct JtError {
      int32_t code;
      int32_t site; /* index into the plan's site table; -1: none */
      int64_t index;
      int64_t extent;
      int32_t dim;
      int32_t lock;     /* CUDA: held while a failure is being recorded */
      int64_t program;  /* CUDA: the program (outermost iteration) that failed */
      int64_t position; /* CUDA: the lane's place in the program's spread loop; 0 outside one */
    };
    /* What the runtime hands one device nest: its captured host values by kind, in the nest's
       capture order (ints and bools as int64), and the bounds of its outermost loop. With
       `order`, the nest's positions [begin, end) run programs order[begin], ... (an item loop,
       longest item first); without it, programs begin, ..., end - 1. In a nest with an inner
       program loop, inner_split 1 makes a program one (outer, inner) pair, 0 one outer
       iteration with its whole inner loop. next_position: the position this call's worker runs
       after `end - 1` (the first of the chunk it has claimed next), or -1 where it has none; the
       prefetch of the next item's rows reads it. Each worker passes its own copy. */
    struct JtCaptures {
      const struct JtTensor* tensors;
      const int64_t* ints;
      const double* floats;
      int64_t loop_begin;
      int64_t loop_end;
      struct JtError* error;
      const int64_t* order;
      int64_t inner_split;
      int64_t next_position;
    };
    /* A device nest: runs positions [begin, end); non-zero after a recorded failure. */
    typedef int (*JtNestFn)(const struct JtCaptures* captures, int64_t begin, int64_t end);)

#define JAGTILE_CPU_ABI_TEXT jagtile_cpu_abi_text
