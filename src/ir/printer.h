// Readable text of a specialised kernel's IR. Stable (values are numbered in program order, not
// by address), so the golden tests can compare it byte for byte.
#pragma once

#include <string>

#include "ir/ir.h"

namespace jagtile::ir {

std::string print_kernel(const Kernel& kernel);

}  // namespace jagtile::ir
