// Shared by the planning-pass tests: a kernel source (or a bundled example) specialised on
// arguments, its device nests built into the loop-nest form, and queries on that form (which
// nests exist, what they read, where loads sit) so each test asserts a pass's output directly,
// without running a C++ compiler.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "jagtile/compiler.h"
#include "plan/build_nests.h"
#include "plan/nest_printer.h"
#include "plan/nest_util.h"
#include "plan/nest_verifier.h"
#include "runtime/program_state.h"

namespace jagtile::plan_test {

inline std::string read_source(const std::string& relative) {
  std::ifstream in(std::string(JAGTILE_SOURCE_DIR) + "/" + relative);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A specialised kernel and its built (unplanned) form; passes are applied by the tests.
struct Subject {
  Program program;
  std::shared_ptr<const runtime::Specialisation> spec;
  plan::Plan plan;

  Subject(const std::string& source, const ArgMap& args, bool checked = true,
          const std::string& kernel = {})
      : program(Program::from_source(source, "test.py")) {
    const runtime::ProgramState& ps = program.state();
    size_t ki = ps.kernel_index(kernel);
    spec = ps.specialise(ki, ps.bind(ki, args), Options{});
    plan = plan::build_nests(spec->kernel, spec->host, checked);
    plan::verify(plan);
  }

  const plan::DeviceFunc& func(size_t i = 0) const { return plan.funcs.at(i); }
  std::string text() const { return plan::print_plan(plan); }

  // Every statement of every function, deep.
  void each_stmt(const std::function<void(const plan::Stmt&)>& fn) const {
    for (const plan::DeviceFunc& f : plan.funcs)
      for (const plan::StmtPtr& s : f.body) plan::visit(s, fn);
  }
  // The nests (any depth) with a role, and those filling an array.
  std::vector<const plan::Stmt*> nests(plan::NestRole role) const {
    std::vector<const plan::Stmt*> out;
    each_stmt([&](const plan::Stmt& s) {
      if (s.kind == plan::StmtKind::nest && s.role == role) out.push_back(&s);
    });
    return out;
  }
  bool array_exists(const std::string& name) const {
    bool found = false;
    each_stmt([&](const plan::Stmt& s) {
      found |= s.kind == plan::StmtKind::array_decl && s.name == name;
    });
    return found;
  }
  // Loads (of the tensor named `tensor`) anywhere inside statement `s`.
  static int loads_in(const plan::Stmt& s, const std::string& tensor, const plan::DeviceFunc& f) {
    int n = 0;
    plan::visit(std::make_shared<const plan::Stmt>(s), [&](const plan::Stmt& st) {
      for (const plan::ExprPtr& e : plan::own_exprs(st))
        plan::visit(e, [&](const plan::Expr& x) {
          if (x.kind == plan::ExprKind::load && plan::capture_node(f, x.ival)->name == tensor) ++n;
        });
    });
    return n;
  }
};

}  // namespace jagtile::plan_test
