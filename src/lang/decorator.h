// A kernel's decorator read as configuration: Helion's `@helion.kernel(config=..., configs=[...],
// key=..., **settings)` and jagtile's `@jagtile.kernel(block_sizes=[...])`. Block sizes are
// honoured; every other Helion config key and kernel setting is accepted and recorded (the
// table in docs/language.md says what each does in jagtile); an unknown key is a located
// warning, a malformed value of a key jagtile reads is a located error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lang/ast.h"

namespace jagtile::lang {

// One accepted decorator entry, as written.
struct DecoratorSetting {
  std::string key;     // "num_warps", "config.block_sizes", "autotune_effort", ...
  std::string value;   // its source text, e.g. "4", "[32, 1]", "'none'"
  std::string effect;  // what jagtile does with it (docs/language.md)
  int line = 0;
};

struct KernelConfig {
  // block_sizes[i] is the size of the i-th tile dimension in order of first appearance in the
  // kernel (a multi-dimensional hl.tile([a, b]) counts as two), Helion's order. Empty: none
  // given. Entries of 0 leave that dimension at its default.
  std::vector<int64_t> block_sizes;
  std::vector<DecoratorSetting> settings;
  // Rendered located warnings ("FILE:LINE:COL: warning: ..."), e.g. for an unknown key.
  std::vector<std::string> warnings;
};

// Reads the config from `def`'s decorators. Throws a located UserError for a malformed value of
// a key jagtile reads (block_sizes) or a dict display used where it means nothing.
KernelConfig decorator_config(const ast::Module& m, const ast::Stmt& def);

// Same, for callers without the module at hand: errors carry the position but no file/line text.
KernelConfig decorator_config(const ast::Stmt& def);

// Every Helion config key and kernel setting jagtile accepts, with what it does (for the docs
// test that keeps docs/language.md complete).
struct KnownDecoratorKey {
  const char* name;
  const char* effect;
};
const std::vector<KnownDecoratorKey>& known_config_keys();
const std::vector<KnownDecoratorKey>& known_kernel_settings();

}  // namespace jagtile::lang
