// The host executor: runs a kernel's host program (host_program.h) on bound arguments for every
// backend, with Python's semantics for host integers (overflow and division by zero are
// located errors) and the interpreter's messages. Each device nest it reaches is handed to the
// backend's NestRunner together with the host values computed so far.
#pragma once

#include <unordered_set>
#include <vector>

#include "host/host_program.h"
#include "jagtile/compiler.h"

namespace jagtile::host {

// A host value. Ints and bools live in `i`, floats in `f`, tensors in `t`; which one a slot
// uses is given by its node's type.
struct HostValue {
  int64_t i = 0;
  double f = 0;
  Tensor t;
};

// The values of one run, by slot.
struct HostEnv {
  std::vector<HostValue> slots;
};

// A backend's side of a run: executes one device nest on the host values it captures.
class NestRunner {
 public:
  virtual ~NestRunner() = default;
  virtual void run_nest(const DeviceNest& nest, const HostEnv& env) = 0;
};

// An allocation the kernel writes in full when its items' rows cover it (analysis/fully_written.h,
// ItemRowsCover): left unfilled on a call where offsets[0] == 0 and offsets[items] * row_length
// equals its first size. The slots of those host values.
struct ItemCoverCheck {
  const ir::Node* alloc = nullptr;
  int offsets_slot = -1;
  int items_slot = -1;
  int row_length_slot = -1;  // -1: rows of one element per first index
};

struct ExecOptions {
  // `torch.empty` zero-filled (the interpreter: results never depend on uninitialised memory).
  bool zero_fill_empty = false;
  // Allocations a backend overwrites completely (the template's output): allocated unfilled.
  const std::unordered_set<const ir::Node*>* overwritten = nullptr;
  // Allocations overwritten completely on calls whose offsets cover them: checked per call.
  const std::vector<ItemCoverCheck>* overwritten_when_items_cover = nullptr;
  // Offsets parameters the backend validates itself, with the same messages (the template's
  // jagged_reduce): their guards are skipped, so no offsets are checked twice.
  const std::unordered_set<int>* offsets_validated_by_backend = nullptr;
};

// Runs the program; returns the kernel's returned tensors. Raises the located UserErrors of the
// host part (failed assert, host integer overflow, a bad `.item()` index, a negative size, a
// bad view), the offsets guards' UserErrors (validate_offsets' messages; checked before the
// first device nest that can see each guard's tensors launches, so no nest runs on bad
// offsets) and whatever the runner raises.
std::vector<Tensor> run_host(const HostProgram& program, const std::vector<ArgValue>& args,
                             NestRunner& runner, const ExecOptions& options = {});

// A nest's outermost loop: [begin, end) and the number of programs (iterations of block size).
// With an inner program loop (DeviceNest::inner_block) each outer iteration is `per_outer`
// programs: the inner loop's extent, or 1 where it is empty (the outer body still runs).
struct NestBounds {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t programs = 0;
  int64_t per_outer = 1;
};
// The row-major element offset of `index` in `t` for a scalar read (`x[i].item()`, `x[i, j]` on
// the host); out-of-range indices are a UserError located at `read`, in `kernel`. Shared by the
// host executor and the interpreter so both report the same message.
int64_t scalar_read_offset(const ir::Kernel& kernel, const ir::Node& read, const Tensor& t,
                           const std::vector<int64_t>& index);

NestBounds nest_bounds(const HostProgram& program, const DeviceNest& nest, const HostEnv& env);

// A scalar slot read as a double / as an int64 (floats truncate like the interpreter's loops).
double slot_number(const HostProgram& program, const HostEnv& env, int slot);
int64_t slot_integer(const HostProgram& program, const HostEnv& env, int slot);

}  // namespace jagtile::host
