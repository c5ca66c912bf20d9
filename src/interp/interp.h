// The reference interpreter: executes a specialised tile IR kernel on CPU tensors, tile by tile,
// with the mask semantics of DESIGN §2 and every load and store bounds-checked. Slow and
// simple on purpose: it is the oracle the compiled paths are tested against.
#pragma once

#include <vector>

#include "host/host_exec.h"
#include "host/host_program.h"
#include "ir/ir.h"
#include "jagtile/compiler.h"

namespace jagtile::interp {

// `args` holds one value per kernel parameter, in declaration order (NoneArg for an optional
// tensor left out). Tensors must be on the CPU. Returns the kernel's returned tensors. Raises
// UserError for an out-of-bounds access at a valid position, a failed assert, a bad size.
// The host part runs on the host executor (host/host_exec.h), the device nests here.
std::vector<Tensor> run_kernel(const ir::Kernel& kernel, const std::vector<ArgValue>& args);

// One device nest of a running host program (the interp backend's NestRunner).
void run_nest(const host::HostProgram& program, const host::DeviceNest& nest,
              const host::HostEnv& env, const std::vector<ArgValue>& args);

// UserError unless every tensor argument is on the CPU.
void check_cpu_tensors(const std::vector<ArgValue>& args);

}  // namespace jagtile::interp
