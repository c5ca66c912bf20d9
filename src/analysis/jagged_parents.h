// The jagged parent map of a specialised kernel: for every hl.jagged_tile loop, its block id ->
// the block ids of its parents (the tile dims of its extents, in the extents' dim order). A
// pure function of the IR; the dispatch detector's pair check is built on it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace jagtile::analysis {

using JaggedParentMap = std::map<int, std::vector<int>>;

JaggedParentMap jagged_parent_map(const ir::Kernel& kernel);

// "{2: [0], 3: [0, 1]}" for messages and tests.
std::string to_string(const JaggedParentMap& map);

}  // namespace jagtile::analysis
