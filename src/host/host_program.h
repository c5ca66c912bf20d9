// The host/device split (DESIGN §3): a specialised kernel becomes a host program (sizes, asserts,
// `.item()` reads, allocations, views, host variables and `if`s, the return) that one host
// executor (host_exec.h) runs for every backend, plus device nests: the outermost device loops,
// each with the list of host values it reads (its captures). Backends only ever run device
// nests; nothing of the host part is generated, compiled or interpreted per backend.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "analysis/static_bounds.h"
#include "ir/ir.h"

namespace jagtile::host {

// A host value read inside a device nest. Scalars of every host type travel as int64 (ints
// and bools) or double; tensors as tensors.
struct Capture {
  enum class Kind : uint8_t { tensor, int64, float64 };
  const ir::Node* node = nullptr;  // a parameter or a host node (never a constant)
  Kind kind = Kind::int64;
  int slot = 0;   // where the host executor keeps its value
  int index = 0;  // its position among the captures of its kind (the generated code's ABI)
};

// One outermost device loop and what it needs from the host.
struct DeviceNest {
  int index = 0;           // position among the kernel's device nests, program order
  ir::NodePtr loop;        // a tile_loop or grid_loop at host level
  int block = 0;           // its block id
  int64_t block_size = 1;  // programs step through [begin, end) by this
  int begin_slot = 0;      // slots of the loop's bounds (host scalars or constants)
  int end_slot = 0;
  std::vector<Capture> captures;                      // host values read inside, in first-use order
  int num_tensors = 0, num_ints = 0, num_floats = 0;  // captures of each kind
  // A grid loop over items (analysis/offsets_guards.h: its index i bounds rows [P[i], P[i + 1])
  // of an inner loop): the slot of P, so a backend can start the longest items first; else -1.
  int item_offsets_slot = -1;
  // An hl.grid loop nested directly in this one whose iterations are independent too
  // (analysis/inner_programs.h): each (outer, inner) pair is a program, numbered outer-major, so
  // the inner loop runs one iteration per program. Its block id and the slot of its extent (it
  // starts at 0), or -1.
  int inner_block = -1;
  int inner_end_slot = -1;
  bool inner_matmul = false;  // the inner loop's body holds a matmul: each pair is heavy
};

// One host step: a host node, compiled to slots. `ops` are the operands' slots; regions of an
// `if` hold their own steps. A top-level loop is a launch of device nest `nest`.
struct HostStep {
  const ir::Node* node = nullptr;
  int slot = -1;  // where the result goes (var_assign: the variable's slot)
  std::vector<int> ops;
  int nest = -1;  // launches
  std::vector<HostStep> then_steps, else_steps;
};

// A tensor used as item boundaries (analysis/offsets_guards.h), checked by the host executor
// with validate_offsets before the first device nest that can see it launches.
struct OffsetsGuard {
  int offsets_param = -1;  // the offsets' parameter index
  int offsets_slot = -1;
  std::string offsets_name;
  struct Rows {
    int slot = -1;  // a host tensor whose first dimension bounds the last offset
    std::string name;
  };
  std::vector<Rows> rows;  // empty: the bound is not known statically (order checked only)
};

// The split form of one kernel. Immutable after split_host_device; shared by every call.
struct HostProgram {
  const ir::Kernel* kernel = nullptr;  // owned by the specialisation, outlives this
  std::vector<HostStep> steps;
  std::vector<DeviceNest> nests;
  std::vector<OffsetsGuard> guards;  // run before device nests, for every backend
  // The dimensions of loads and stores proven in bounds, which generated code does not check:
  // by construction (analysis::dims_within_loops), and the first dimension of the rows these
  // guards bound (analysis::rows_within_guards), in bounds once the guards have passed.
  analysis::InBoundsDims in_bounds_dims;
  int num_slots = 0;
  // Constants and parameters have slots too, so every operand is a slot. Constants' values are
  // fixed here; parameters are filled from the arguments by the executor.
  struct ConstSlot {
    int slot;
    const ir::Node* node;
  };
  std::vector<ConstSlot> constants;
  std::vector<int> param_slots;  // by parameter index; -1 for a parameter nothing reads
  std::unordered_map<const ir::Node*, int> slot_of;
  std::vector<const ir::Node*> slot_nodes;  // the node behind each slot

  int slot(const ir::Node* node) const;  // InternalError for a node without one
  // Readable: the host steps with their slots, then each nest with its captures.
  std::string to_string() const;
};

// Splits a verified kernel. The kernel must outlive the result.
HostProgram split_host_device(const ir::Kernel& kernel);

}  // namespace jagtile::host
