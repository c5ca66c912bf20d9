// libFuzzer target for the front end: lexer + parser + checker (+ the AST printer and decorator
// config reader). A UserError is the expected answer to bad input; anything else escaping, a
// crash, a sanitizer report, a hang or runaway memory is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lang/check.h"
#include "lang/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view source(reinterpret_cast<const char*>(data), size);
  try {
    jagtile::ast::Module m = jagtile::lang::parse_module(source, "fuzz.py");
    (void)jagtile::ast::dump(m);
    for (const auto* def : jagtile::lang::kernel_defs(m)) {
      (void)jagtile::lang::decorator_config(m, *def);
    }
    jagtile::lang::check_module(m);
  } catch (const jagtile::UserError&) {
    // Expected for malformed input.
  }
  return 0;
}
