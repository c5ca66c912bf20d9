// The C++ code generator: a printer of the planned loop-nest form (plan/nest_ir.h). Each device
// function becomes a `static int jt_loopN(const FrameK F, int64_t id)` (one program) plus an
// extern "C" entry that runs a range of programs on the captures the runtime hands it (abi.h).
// Tile arrays live on the stack up to 64 KiB, on the heap beyond; innermost loops carry
// `#pragma omp simd` where the plan says so; source-line comments precede each statement.
#pragma once

#include <string>
#include <vector>

#include "ir/ir.h"
#include "plan/nest_ir.h"

namespace jagtile::codegen::cpu {

struct CpuSource {
  std::string code;                    // the C++ translation unit
  std::vector<std::string> functions;  // the entry point of each device nest, by nest index
};

CpuSource print_cpp(const plan::Plan& plan);

// The ABI definitions and helper functions every generated C++ file starts with.
std::string prelude();
// The matmul microkernel (jt_matmul_f32, jt_matmul_bf16), after the prelude in files with
// matmul blocks: an opening line, the JtMatmul struct and the entries' declarations, then a line
// before their definitions. The JIT compiles the definitions once into objects that it links
// into every kernel (jit.cpp), as the markers below let it find them.
std::string matmul_prelude();
// Its bf16 part (cpp_matmul_bf16.cpp), which matmul_prelude() ends with.
std::string bf16_matmul_text();
inline constexpr const char* kMatmulOpening = "// ---- matmul microkernel (";
inline constexpr const char* kMatmulDefinitions = "// ---- matmul microkernel definitions ----\n";

// Why the generic CPU backend cannot compile this kernel, or empty when it can.
std::string unsupported_reason(const ir::Kernel& kernel);

}  // namespace jagtile::codegen::cpu
