// Length patterns and partition settings shared by the work-partition tests
// (tests/templates/partition_test.cpp) and the CUDA worklist tests (tests/cuda/worklist_test.cpp),
// so both sweep the same cases.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "templates/common/partition.h"

namespace jagtile::partition_cases {

using partition::OffsetsView;

inline std::vector<int64_t> to_offsets(const std::vector<int64_t>& lengths, int64_t start = 0) {
  std::vector<int64_t> off{start};
  for (int64_t len : lengths) off.push_back(off.back() + len);
  return off;
}

inline OffsetsView view_of(const std::vector<int64_t>& off) {
  return OffsetsView{off.data(), true, int64_t(off.size()) - 1};
}

// Length patterns that stress the partition: empty items at the ends and in the middle, all
// empty, one huge item, tiny items, random.
inline std::map<std::string, std::vector<int64_t>> length_cases() {
  std::map<std::string, std::vector<int64_t>> cases;
  cases["single"] = {5};
  cases["single-empty"] = {0};
  cases["empty-first"] = {0, 0, 7, 3, 130};
  cases["empty-middle"] = {9, 0, 0, 0, 65, 0, 1};
  cases["empty-last"] = {64, 128, 1, 0, 0};
  cases["all-empty"] = std::vector<int64_t>(37, 0);
  std::vector<int64_t> huge(50, 3);
  huge[25] = 5000;
  cases["one-huge"] = huge;
  std::mt19937_64 rng(7);
  std::vector<int64_t> tiny(400);
  for (auto& v : tiny) v = int64_t(rng() % 5);
  cases["tiny"] = tiny;
  std::vector<int64_t> random(120);
  for (auto& v : random) v = int64_t(rng() % 300);
  cases["random"] = random;
  return cases;
}

struct Setting {
  int64_t workers;
  int64_t chunk_rows;
  int64_t overhead;
};

// The CPU template runs overhead 1 with few workers; the CUDA one 1..64 with thousands.
inline std::vector<Setting> settings() {
  std::vector<Setting> out;
  for (int64_t w : {1, 2, 3, 7, 64, 1000}) {
    for (int64_t cr : {1, 3, 64}) {
      for (int64_t ovh : {1, 4}) out.push_back({w, cr, ovh});
    }
  }
  return out;
}

inline std::string describe(const std::string& name, const Setting& c) {
  return name + " W=" + std::to_string(c.workers) + " chunk_rows=" + std::to_string(c.chunk_rows) +
         " overhead=" + std::to_string(c.overhead);
}

}  // namespace jagtile::partition_cases
