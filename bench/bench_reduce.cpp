// bench_reduce: the CPU jagged_reduce template against the naive reference on the standard cases,
// next to the machine's real limit: a SIMD streaming read of the same bytes, measured in the same
// run with the same worker count. Implementations are timed interleaved (one of each per round)
// so that noise from a shared machine hits them alike; we report medians and minimums.
//
//   bench_reduce [--threads N] [--repeat N] [--case NAME] [--json] [--check] [--quick]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "jagtile/error.h"
#include "jagtile/reduce.h"
#include "jagtile/thread_pool.h"
#include "reduce_cases.h"
#include "testing/datagen.h"
#include "testing/timing.h"

namespace {

using namespace jagtile;

// Largest error of the template against the reference, as a multiple of the allowed tolerance
// (fp32 reassociation over the item's rows, plus one rounding for 16-bit outputs). > 1 fails.
double check_against_reference(const Tensor& actual, const Tensor& expected,
                               const Tensor& offsets) {
  const int64_t items = offsets.numel() - 1;
  const int64_t cols = items ? actual.numel() / items : 0;
  double worst = 0;
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const double a = actual.item_as_double(i), e = expected.item_as_double(i);
    if (std::isnan(e) || std::isinf(e)) {
      if (!((std::isnan(a) && std::isnan(e)) || a == e)) return INFINITY;
      continue;
    }
    const int64_t b = i / cols;
    const double len = offsets.item_as_double(b + 1) - offsets.item_as_double(b);
    double tol = 2e-6 * (len + 1) + 1e-12;
    if (actual.dtype() == DType::bf16) tol += std::fabs(e) * 0x1p-7;
    if (actual.dtype() == DType::f16) tol += std::fabs(e) * 0x1p-10;
    worst = std::max(worst, std::fabs(a - e) / tol);
  }
  return worst;
}

struct Row {
  std::string case_name, impl;
  int threads;
  double median_ms, min_ms, gbps, pct_of_peak, speedup, peak_gbps;
};

int run(int argc, char** argv) {
  int threads = default_num_threads();
  int repeat = 11;
  bool json = false, check = false, quick = false, with_reference = true;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UserError("option " + a + " needs a value");
      return argv[++i];
    };
    if (a == "--threads")
      threads = std::stoi(value());
    else if (a == "--repeat")
      repeat = std::stoi(value());
    else if (a == "--case")
      only = value();
    else if (a == "--json")
      json = true;
    else if (a == "--check")
      check = true;
    else if (a == "--quick")
      quick = true;
    else if (a == "--no-reference")
      with_reference = false;
    else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: bench_reduce [--threads N] [--repeat N] [--case NAME] [--json] [--check] "
          "[--quick] [--no-reference]\n");
      return 0;
    } else {
      throw UserError("unknown option '" + a + "'", "run bench_reduce --help for the options");
    }
  }
  if (threads < 1 || repeat < 1) throw UserError("--threads and --repeat must be at least 1");

  if (!only.empty()) {
    bool known = false;
    std::string names;
    for (const ReduceBenchCase& c : reduce_bench_cases(quick ? 8 : 1)) {
      known = known || c.name == only;
      names += " " + c.name;
    }
    if (!known) throw UserError("unknown case '" + only + "'", "the cases are:" + names);
  }
  ThreadPool pool(threads);
  std::vector<Row> rows;
  bool all_ok = true;
  for (const ReduceBenchCase& c : reduce_bench_cases(quick ? 8 : 1)) {
    if (!only.empty() && c.name != only) continue;
    if (!json) std::fprintf(stderr, "bench_reduce: %s: generating data...\n", c.name.c_str());
    const auto lengths = generate_lengths(c.shape);
    Tensor offsets = lengths_to_offsets(lengths, DType::i64);
    int64_t total_rows = 0;
    for (int64_t len : lengths) total_rows += len;
    Tensor values = random_values({total_rows, c.shape.features}, c.dtype, c.shape.seed);
    ReduceSpec spec;
    spec.pool = &pool;
    spec.num_threads = threads;
    Tensor out = Tensor::empty({c.shape.batch, c.shape.features}, c.dtype);
    // Minimum traffic: every input element read once (values, offsets), every output written once.
    const double bytes = double(values.nbytes() + offsets.nbytes() + out.nbytes());

    TimingSamples peak, templ, ref;
    Tensor ref_out;
    auto run_peak = [&] { stream_read(pool, threads, values.raw_data(), values.nbytes()); };
    auto run_template = [&] { jagged_reduce_into(values, offsets, spec, out); };
    auto run_reference = [&] { ref_out = jagged_reduce_reference(values, offsets, spec); };
    run_peak();
    run_template();
    // The reference is slow by design; a few rounds of it are enough for a stable median.
    const int ref_rounds = with_reference ? std::max(1, std::min(repeat, 3)) : 0;
    for (int r = 0; r < repeat; ++r) {
      peak.ms.push_back(time_ms(run_peak));
      templ.ms.push_back(time_ms(run_template));
      if (r < ref_rounds) ref.ms.push_back(time_ms(run_reference));
    }
    if (check && with_reference) {
      double worst = check_against_reference(out, ref_out, offsets);
      bool ok = worst <= 1.0;
      all_ok = all_ok && ok;
      std::fprintf(stderr, "bench_reduce: %s: check %s (worst error %.3g of tolerance)\n",
                   c.name.c_str(), ok ? "ok" : "FAILED", worst);
    }
    // The probe reads the values buffer: its bandwidth is those bytes over its time.
    const double peak_gbps = double(values.nbytes()) / (peak.median() * 1e6);
    const double ref_ms = ref.median();
    for (auto [impl, t] :
         {std::pair<const char*, TimingSamples*>{"template", &templ}, {"reference", &ref}}) {
      if (t->ms.empty()) continue;
      double gbps = bytes / (t->median() * 1e6);
      rows.push_back({c.name, impl, threads, t->median(), t->min(), gbps, 100.0 * gbps / peak_gbps,
                      ref_ms / t->median(), peak_gbps});
    }
  }

  // Fixed cost of one call on a tiny input (B = 4, M = 16): validation, setup, one worker.
  double call_us = 0;
  {
    Tensor offsets = lengths_to_offsets({1, 0, 3, 2}, DType::i64);
    Tensor values = random_values({6, 16}, DType::f32, 1);
    Tensor out = Tensor::empty({4, 16}, DType::f32);
    ReduceSpec spec;
    spec.pool = &pool;
    TimingSamples t;
    for (int r = 0; r < 2000; ++r) {
      t.ms.push_back(time_ms([&] { jagged_reduce_into(values, offsets, spec, out); }));
    }
    call_us = t.median() * 1000.0;
  }

  if (json) {
    std::printf("[\n");
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      std::printf(
          "  {\"case\": \"%s\", \"impl\": \"%s\", \"threads\": %d, \"median_ms\": %.4f, "
          "\"min_ms\": "
          "%.4f, \"gbps\": %.2f, \"pct_of_peak\": %.1f, \"speedup_vs_reference\": %.2f, "
          "\"peak_read_gbps\": %.2f, \"isa\": \"%s\"}%s\n",
          r.case_name.c_str(), r.impl.c_str(), r.threads, r.median_ms, r.min_ms, r.gbps,
          r.pct_of_peak, r.speedup, r.peak_gbps, std::string(reduce_cpu_isa()).c_str(),
          i + 1 < rows.size() ? "," : "");
    }
    std::printf("]\n");
    std::fprintf(stderr, "bench_reduce: tiny-call overhead %.2f us (median of 2000)\n", call_us);
  } else {
    std::printf("jagged_reduce (CPU, %s, %d threads; peak = same-run streaming read)\n",
                std::string(reduce_cpu_isa()).c_str(), threads);
    std::printf("%-16s %-10s %10s %10s %8s %8s %10s %10s\n", "Case", "Impl", "Median ms", "Min ms",
                "GB/s", "% peak", "Peak GB/s", "Speedup");
    for (const Row& r : rows) {
      char speedup[32] = "n/a";
      if (std::isfinite(r.speedup) && r.speedup > 0)
        std::snprintf(speedup, sizeof speedup, "%.1fx", r.speedup);
      std::printf("%-16s %-10s %10.3f %10.3f %8.2f %7.1f%% %10.2f %10s\n", r.case_name.c_str(),
                  r.impl.c_str(), r.median_ms, r.min_ms, r.gbps, r.pct_of_peak, r.peak_gbps,
                  speedup);
    }
    std::printf("tiny call (B=4, M=16): %.2f us per call (median of 2000)\n", call_us);
  }
  return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const jagtile::UserError& e) {
    std::fprintf(stderr, "bench_reduce: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_reduce: %s\n", e.what());
    return 3;
  }
}
