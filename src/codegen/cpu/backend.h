// The generic CPU backend's compile and run steps, as the runtime's cpu backend calls them:
// print the planned form as C++ (print_cpp.h), compile and load it (jit.h), and run one device
// nest on the captured host values over the thread pool, turning a recorded failure into the
// same located UserError the interpreter raises.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "codegen/cpu/abi.h"
#include "codegen/cpu/jit.h"
#include "codegen/cpu/print_cpp.h"
#include "host/host_exec.h"
#include "jagtile/thread_pool.h"
#include "plan/nest_ir.h"

namespace jagtile::codegen::cpu {

// A kernel compiled by the generic CPU backend: the loaded code, one entry per device nest, and
// the failure sites its error codes refer to.
struct CompiledCpu {
  std::shared_ptr<const LoadedKernel> code;
  std::vector<JtNestFn> nests;
  std::vector<plan::Site> sites;
};

// Prints, compiles (or finds on disk) and loads a planned kernel. `stats` says how.
CompiledCpu compile_cpu(const plan::Plan& plan, Jit& jit, JitStats* stats);

// Runs device nest `nest` of a running host program: its programs spread over `pool`'s workers
// (dynamic chunks: jagged programs differ wildly in cost; an item loop's longest items first).
// Raises UserError for a bounds violation (naming the kernel, source line, tensor, index and
// extent), a failed assert or a bad size; the process survives. With `reverse` the programs run
// last to first on the calling thread instead (Options::reverse_programs, a testing aid).
void run_cpu_nest(const CompiledCpu& compiled, const host::HostProgram& program,
                  const host::DeviceNest& nest, const host::HostEnv& env, ThreadPool& pool,
                  bool reverse = false);

// The located UserError for a failure a generated nest recorded (shared with generated CUDA,
// which uses the same codes and sites).
[[noreturn]] void raise_nest_error(const ir::Kernel& kernel, const std::vector<plan::Site>& sites,
                                   const JtError& error);
// A tensor as generated code sees it (its data pointer on whatever device it lives).
void fill_tensor(JtTensor* out, const Tensor& t);

// The programs of an item loop (host::DeviceNest::item_offsets_slot) in the order run_cpu_nest
// starts them: longest item first, ties by program. Empty where the order would not matter or
// would cost more than it saves: items all of one length, or more than 64 programs per worker
// (dynamic chunks then end within a small chunk of each other, while sorting 512 items took
// about 4 us, 45% of a 9 us kernel of tiny items); or offsets that are not a CPU i32 / i64
// tensor covering the programs. Where each item is several programs (NestBounds::per_outer: an
// inner program loop), the limit counts items, and an item's programs stay together, in order.
std::vector<int64_t> longest_items_first(const Tensor& offsets, const host::NestBounds& bounds,
                                         int workers);

// Whether a nest with an inner program loop (NestBounds::per_outer > 1) runs each (outer, inner)
// pair as a program (JtCaptures::inner_split) rather than each outer iteration with its whole
// inner loop: where there are fewer outer iterations than workers, or where a pair is heavy (a
// matmul inside: attention's heads) and the longest item of an item loop holds at least
// 1 / (4 workers) of the rows. Elsewhere the workers are busy without it, and a program per
// pair only adds its setup: a per-(item, column) sum of 1024 items of about 8 rows by 256
// columns took 2.2 ms with every pair a program against 1.6 ms, and of 4 items by 4096 columns
// 0.18 ms against 0.11 (docs/performance.md).
bool split_inner_programs(const host::NestBounds& bounds, const Tensor* item_offsets,
                          bool matmul_inside, int workers);

// Where the chunks of programs in longest-first order start, with `programs` last: the longest
// `workers` items one program per chunk, so that their inner programs (per_outer of them per
// item, NestBounds) spread over the workers; every other item one chunk, whose programs then run
// together on one worker, as its nested loops would (they share the item's rows in cache, and a
// call per program costs: zipf attention 7% slower with every program a chunk).
std::vector<int64_t> ordered_chunks(int64_t programs, int64_t per_outer, int workers);

// Runs chunks 0 .. chunks - 1 of a nest's positions, chunk c being [start(c), start(c + 1)), on
// `workers` of `pool`, each chunk taken by the first free worker: `run(worker, captures, begin,
// end)` with the worker's copy of `captures`, whose next_position is the first position of the
// chunk that worker runs next, or -1 where it runs none. A worker claims that chunk before it
// runs the one at hand, so that the chunk's last program knows what follows it on this core (the
// prefetch of the next item's rows reads it: pass_prefetch.h). A worker stops at the first
// `run` that returns true (a recorded failure).
void run_chunks(ThreadPool& pool, int workers, int64_t chunks,
                const std::function<int64_t(int64_t)>& start,
                const std::function<bool(int, const JtCaptures*, int64_t, int64_t)>& run,
                const JtCaptures& captures);

// The pool for a thread count (0: the process-wide pool).
ThreadPool& pool_for(int num_threads);

}  // namespace jagtile::codegen::cpu
