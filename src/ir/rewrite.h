// Rebuilding an immutable kernel: every node is copied with its operands (and the size nodes of
// its type's full dims) replaced by their rebuilt versions; a callback may substitute the
// rebuilt node or drop it. The one mechanism every pass uses.
#pragma once

#include <functional>

#include "ir/ir.h"

namespace jagtile::ir {

// Called for each node (the original, and its copy with operands and regions rebuilt, which is
// the original itself when nothing changed). Return the rebuilt node to
// keep it, another node to replace it (uses are redirected; it must be a constant, a parameter
// or a node placed earlier), or nullptr to drop it (only for a node nothing uses).
using RewriteFn = std::function<NodePtr(const NodePtr& original, const NodePtr& rebuilt)>;

Kernel rewrite(const Kernel& kernel, const RewriteFn& fn);

// Rebuilding where the callback returns the node to place where the original stood: the rebuilt
// node, or a new one made from it (an attribute changed), which its users then refer to.
Kernel rewrite_in_place(const Kernel& kernel, const RewriteFn& fn);

}  // namespace jagtile::ir
