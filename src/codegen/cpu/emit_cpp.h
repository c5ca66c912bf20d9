// The generic CPU backend's emitter: a specialised tile IR kernel -> one readable C++ file with
// an `extern "C"` entry point (see abi.h for the calling convention). Host nodes become plain
// statements; each outermost device loop becomes a function over program ids that the runtime
// spreads over its threads; device values become fixed-size tile arrays (block sizes are
// constants of the specialisation) or, where fused, per-element locals inside masked loops.
#pragma once

#include <string>
#include <vector>

#include "ir/ir.h"

namespace jagtile::codegen::cpu {

struct EmitOptions {
  bool checked = true;  // bounds checks on every device load and store
};

// A place in the kernel that can fail at run time; JtError::site indexes this table.
struct Site {
  enum class Kind : uint8_t {
    load,
    store,
    host_read,
    assert_,
    host_call,
    div_zero,
    overflow,
    device,
    tile_size
  };
  Kind kind = Kind::load;
  ir::Loc loc;
  std::string tensor;   // the tensor's name for accesses
  std::string message;  // the assert's message; the operation of an arithmetic failure
};

struct CpuSource {
  std::string code;      // the C++ translation unit
  std::string function;  // its entry point's name
  std::vector<Site> sites;
};

// Why the generic CPU backend cannot compile this kernel, or empty when it can.
std::string unsupported_reason(const ir::Kernel& kernel);

// Raises InternalError when unsupported_reason() is not empty.
CpuSource generate_cpu_source(const ir::Kernel& kernel, const EmitOptions& options);

}  // namespace jagtile::codegen::cpu
