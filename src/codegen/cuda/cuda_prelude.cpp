// The fixed top of every generated CUDA file: under NVRTC (no C library headers) the fixed-width
// integer types and the few macros the shared helpers use; the ABI structs (the CPU backend's
// text, abi.h, so the error codes and the tensor layout are the same on both); the shared helpers
// (common/c_helpers.cpp) over CUDA's bit-cast intrinsics; overflow-checked integer steps; the
// device error recorder; and the worklist a launch hands its blocks. The same text compiles as
// host C++ after cuda_emulation.h, which defines JAGTILE_CUDA_EMULATION and the CUDA names.
#include "codegen/common/c_text.h"
#include "codegen/cpu/abi.h"
#include "codegen/cuda/print_cuda.h"

namespace jagtile::codegen::cuda {

namespace {

const char* kNvrtcBasics = R"JT(#ifndef JAGTILE_CUDA_EMULATION
// NVRTC has no C library headers: the fixed-width types and macros the helpers use.
typedef signed char int8_t;
typedef short int16_t;
typedef int int32_t;
typedef long long int64_t;
typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
#define INT64_C(x) x##LL
#define INT64_MAX 9223372036854775807LL
#define INT64_MIN (-INT64_MAX - 1)
#define NAN __int_as_float(0x7fc00000)
#define INFINITY __int_as_float(0x7f800000)
#endif
)JT";

const char* kCudaBits = R"JT(
#define JT_INLINE static __device__ __forceinline__
JT_INLINE float jt_bits_f(uint32_t u) { return __uint_as_float(u); }
JT_INLINE uint32_t jt_f_bits(float f) { return __float_as_uint(f); }
)JT";

const char* kCudaRuntime = R"JT(
// Host integer steps that report overflow instead of wrapping (no compiler builtins on NVRTC).
JT_INLINE bool jt_add_overflow(int64_t a, int64_t b, int64_t* r) {
  *r = (int64_t)((uint64_t)a + (uint64_t)b);
  return ((a ^ *r) & (b ^ *r)) < 0;
}
JT_INLINE bool jt_sub_overflow(int64_t a, int64_t b, int64_t* r) {
  *r = (int64_t)((uint64_t)a - (uint64_t)b);
  return ((a ^ b) & (a ^ *r)) < 0;
}
JT_INLINE bool jt_mul_overflow(int64_t a, int64_t b, int64_t* r) {
  *r = (int64_t)((uint64_t)a * (uint64_t)b);
  if (a == 0 || b == 0) return false;
  if ((a == -1 && b == INT64_MIN) || (b == -1 && a == INT64_MIN)) return true;
  return *r / b != a;  // exact unless the product wrapped (|error| would be a multiple of 2^64)
}

// Records a failure at `position` (the lane's place in the spread loop's row-major order; 0 in
// uniform code) of program `program`. Blocks run programs in no set order and a block's threads
// check their lanes together, so the record keeps the least failure by (program, site, position):
// every program below a failing one was claimed before it and runs to its end, so the least is the
// one the interpreter, running programs in order and a statement over its lanes in order, stops
// at. The fields are written under a spin lock (failures only; Volta's scheduler lets a spinning
// lane wait on one of its own warp). Returns 1.
static __device__ int jt_fail_ordered(JtError* e, int64_t program, int64_t position, int32_t code,
                                      int32_t site, int64_t index, int64_t extent, int32_t dim) {
  while (atomicCAS((int*)&e->lock, 0, 1) != 0) {
  }
  __threadfence();
  const volatile JtError* r = e;
  const bool less = r->code == 0 || program < r->program ||
                    (program == r->program &&
                     (site < r->site || (site == r->site && position < r->position)));
  if (less) {
    e->site = site;
    e->index = index;
    e->extent = extent;
    e->dim = dim;
    e->program = program;
    e->position = position;
    __threadfence();
    atomicExch((int*)&e->code, (int)code);
  }
  __threadfence();
  atomicExch((int*)&e->lock, 0);
  return 1;
}
JT_INLINE int jt_failed(const JtError* e) { return *(const volatile int32_t*)&e->code != 0; }

// The per-launch worklist: blocks claim the next program from one counter, so a block that drew
// a long item never holds up the others' short ones (jagged programs differ wildly in cost).
// Tile arrays too big for shared memory live in "tile memory": tile_bytes per block.
struct JtWork {
  unsigned long long* counter;  // zeroed before the launch
  int64_t programs;
  unsigned char* tiles;  // blocks * tile_bytes
  int64_t tile_bytes;
};
)JT";

}  // namespace

std::string prelude() {
  std::string s = kNvrtcBasics;
  s += "\n// ---- calling convention (jagtile src/codegen/cpu/abi.h) ----\n";
  s += JAGTILE_CPU_ABI_TEXT;
  s += "\n";
  s += kCudaBits;
  s += shared_helpers();
  s += kCudaRuntime;
  return s;
}

}  // namespace jagtile::codegen::cuda
