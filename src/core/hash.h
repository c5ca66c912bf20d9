// Content hashes for cache keys (specialisations, compiled-code caches): 64-bit FNV-1a, which is
// stable across processes and machines, and its fixed-width hex form.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace jagtile {

// 64-bit FNV-1a, continuing from `seed`.
uint64_t fnv1a64(std::string_view data, uint64_t seed = 0xcbf29ce484222325ull);
// 16 lowercase hex digits.
std::string hex64(uint64_t v);

}  // namespace jagtile
