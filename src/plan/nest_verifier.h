// The loop-nest form's verifier: every name is defined before it is used and in scope where it
// is used (locals, loop indices, program variables, tile arrays), every array access has one
// index per dimension, every load and store one index per tensor dimension, every capture and
// site exists. Run after the build and after every planning pass; raises InternalError.
#pragma once

#include "plan/nest_ir.h"

namespace jagtile::plan {

void verify(const Plan& plan);

}  // namespace jagtile::plan
