// The vocabulary of the kernel language (DESIGN.md §2): modules, their functions and constants,
// tensor methods and attributes, tile attributes. One table, shared by the checker (unknown-name
// errors with "did you mean") and by lowering (name resolution).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jagtile/names.h"

namespace jagtile::lang {

// Module names a kernel may use without importing them, each with the module path it stands for:
// hl -> helion.language, F -> torch.nn.functional, torch, helion, math, jagtile.
const std::vector<std::pair<std::string, std::string>>& default_modules();

// True when a dotted module path is one the kernel language understands, under any alias:
// torch, torch.nn, torch.nn.functional, helion, helion.language, jagtile, jagtile.language, math.
bool is_language_module(std::string_view path);

// How a kernel imports the module of a canonical member: "hl.tile" -> "import helion.language as
// hl", "F.silu" -> "import torch.nn.functional as F", "torch.exp" -> "import torch".
std::string import_line_for(std::string_view canonical);

// Canonical qualified name of a module member, or "" when `qualified` names no module member.
// Spellings are folded: "helion.language.tile" -> "hl.tile", "torch.nn.functional.silu" ->
// "F.silu". The result may still be unknown; see is_known_function / is_known_constant.
std::string canonical_member(std::string_view qualified);

bool is_known_function(std::string_view canonical);        // "hl.tile", "torch.exp", "F.silu", ...
bool is_known_constant(std::string_view canonical);        // "torch.float32", "math.inf", ...
bool is_loop_function(std::string_view canonical);         // hl.tile / hl.grid / hl.jagged_tile
bool is_device_only_function(std::string_view canonical);  // hl.load/store/zeros/full/dot

// Every known function and constant of one module ("hl", "torch", "F", "math"), canonical.
std::vector<std::string> module_members(std::string_view module);

const std::vector<std::string>& builtin_functions();  // float, int
const std::vector<std::string>& tensor_methods();     // size, numel, item, view, ..., to
const std::vector<std::string>& tensor_attributes();  // shape, dtype, device
const std::vector<std::string>& tile_attributes();    // index, begin, end, block_size, id

// How a known function or method may be called: positional argument count and keyword names.
// Types are not known before specialisation; this only catches misspelt keywords and wrong
// argument counts early.
struct Signature {
  int min_args = 0;
  int max_args = 0;  // -1: any number
  std::vector<std::string> keywords;
  std::string usage;  // e.g. "torch.where(condition, a, b)"
};

// Signature of a canonical module function ("hl.zeros") or builtin ("float"); null if unknown.
const Signature* function_signature(std::string_view canonical);
// Signature of a tensor method ("sum"); null if unknown.
const Signature* method_signature(std::string_view name);

// The candidate closest to `name` by edit distance when it is a plausible typo (at most 2 edits,
// and fewer than the name's length; a plain name is compared with the last component of a
// dotted candidate); "" otherwise. jagtile/names.h's closest_name with the kernel checker's rule.
std::string closest_match(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace jagtile::lang
