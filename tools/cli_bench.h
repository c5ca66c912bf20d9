// Internal to `jagtile bench`: the timing primitives it shares between its files (samples with
// median and minimum, the same-run streaming-read peak) and its fixed-cost measurements (cold
// compile and warm load of the generic CPU path, per-call time on a tiny input).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cli.h"
#include "testing/timing.h"

namespace jagtile::cli::bench {

// Wall-clock samples, one per round (testing/timing.h, shared with the benchmarks).
using Samples = TimingSamples;
using jagtile::now_ms;
using jagtile::time_ms;

// Reads `buffer` once with the reduce template's streaming-read probe over `threads` workers of
// the process-wide pool (the pool the kernels run on): the machine's practical read limit.
void stream_read(const std::vector<float>& buffer, int threads);
// The FLOP-peak probe on the same workers: returns the f32 FLOPs it did (jagtile::fma_stream).
double fma_stream(int threads);
// The bf16 FLOP-peak probe likewise (jagtile::bf16_stream): 0 without a bf16 unit.
double bf16_stream(int threads);

// Cold compile and warm load of the generic CPU backend for one specialisation, measured on
// the JIT itself: compile into an empty temporary cache folder, then load the entry from that
// folder with a fresh in-memory state.
struct CompileCost {
  bool measured = false;
  std::string note;  // why not measured
  double cold_ms = 0;
  double warm_load_ms = 0;
};
CompileCost measure_compile(const std::string& file, const std::string& kernel, const ArgMap& args,
                            const Options& options);

// Median time of one whole call on a tiny input (B = 4), per implementation: every registered
// backend but the interpreter that runs the kernel (labelled from the registry), and "library"
// (the template's direct jagged_reduce call) when the template runs it.
struct TinyCall {
  std::string impl;
  double us = 0;
};
struct TinyCost {
  std::string shape;  // e.g. "B=4 M=16 max_len=8"; empty when not measured
  std::string note;   // why not measured
  std::vector<TinyCall> calls;
};
TinyCost measure_tiny_calls(const Program& program, const KernelInfo& kernel,
                            const CommandLine& cl);

}  // namespace jagtile::cli::bench
