// Delta reduction of failing kernels (see minimize.h). The reducer needs no knowledge of the
// language's rules: a candidate that breaks the kernel (a deleted definition, an expression of
// the wrong shape) fails differently, or not at all, and is rejected by the interestingness
// test, as in C-Reduce.
#include "minimize.h"

#include <algorithm>
#include <sstream>

#include "child.h"

namespace jagtile::fuzz {

namespace {

using Path = std::vector<size_t>;

void collect_paths(const std::vector<Stmt>& body, Path prefix, std::vector<Path>& out) {
  for (size_t i = 0; i < body.size(); ++i) {
    Path p = prefix;
    p.push_back(i);
    out.push_back(p);
    collect_paths(body[i].body, p, out);
  }
}

// The list holding the statement at p, or null when p does not resolve.
std::vector<Stmt>* parent_list(std::vector<Stmt>& root, const Path& p) {
  std::vector<Stmt>* list = &root;
  for (size_t d = 0; d + 1 < p.size(); ++d) {
    if (p[d] >= list->size()) return nullptr;
    list = &(*list)[p[d]].body;
  }
  return p.back() < list->size() ? list : nullptr;
}

Stmt* stmt_at(std::vector<Stmt>& root, const Path& p) {
  std::vector<Stmt>* list = parent_list(root, p);
  return list ? &(*list)[p.back()] : nullptr;
}

// Every expression node of a statement, addressed as (expression index, child path).
void collect_nodes(const Expr& e, Path prefix, std::vector<Path>& out) {
  out.push_back(prefix);
  for (size_t i = 0; i < e.kids.size(); ++i) {
    Path p = prefix;
    p.push_back(i);
    collect_nodes(e.kids[i], p, out);
  }
}

Expr& node_at(Expr& root, const Path& p) {
  Expr* e = &root;
  for (size_t i : p) e = &e->kids[i];
  return *e;
}

class Reducer {
 public:
  Reducer(const GenKernel& k, const Settings& settings, const CaseFailure& target, double timeout_s,
          double budget_s, const std::string& cache_dir,
          const std::function<void(const std::string&)>& log)
      : best_(k),
        settings_(settings),
        target_(target),
        timeout_s_(timeout_s),
        cache_dir_(cache_dir),
        log_(log) {
    deadline_ = now_seconds() + budget_s;
    input_ = k.inputs.at(size_t(std::max(0, target.input)));
    if (target.backend == "interp" || target.backend == "compile")
      backends_ = {"interp"};
    else
      backends_ = {"interp", target.backend};
  }

  Reduced run() {
    bool changed = true;
    while (changed && !out_of_time()) {
      changed = false;
      changed |= reduce_block_sizes();
      changed |= reduce_returns();
      changed |= reduce_statements();
      changed |= reduce_expressions();
      changed |= reduce_input();
    }
    Reduced r;
    r.kernel = best_;
    r.kernel.inputs = {input_};
    r.diff = diff_of(best_, input_);
    r.tries = tries_;
    r.accepted = accepted_;
    return r;
  }

 private:
  bool out_of_time() const { return now_seconds() > deadline_; }

  DiffCase diff_of(const GenKernel& k, const InputRecipe& in) const {
    return DiffCase{k.source(), {in}, k.outputs, backends_, settings_};
  }

  // Keeps the candidate when it still fails with the target's signature.
  bool interesting(const GenKernel& k, const InputRecipe& in) {
    if (out_of_time()) return false;
    ++tries_;
    CaseReport r = run_case_forked(diff_of(k, in), timeout_s_, cache_dir_);
    for (const CaseFailure& f : r.failures) {
      if (f.signature() == target_.signature()) {
        ++accepted_;
        return true;
      }
    }
    return false;
  }

  bool reduce_block_sizes() {
    bool changed = false;
    while (!best_.block_sizes.empty() && !out_of_time()) {
      GenKernel k = best_;
      k.block_sizes.pop_back();
      if (!interesting(k, input_)) break;
      best_ = k;
      changed = true;
    }
    return changed;
  }

  // Drops returned tensors one at a time (with their tolerances, which are positional), so
  // their allocations and stores can go next.
  bool reduce_returns() {
    bool changed = false;
    for (size_t si = 0; si < best_.body.size() && !out_of_time(); ++si) {
      if (best_.body[si].fmt.rfind("return ", 0) != 0) continue;
      for (size_t i = 0;; ++i) {
        std::vector<std::string> names;
        std::stringstream ss(best_.body[si].fmt.substr(7));
        for (std::string n; std::getline(ss, n, ',');)
          names.push_back(n.substr(n.find_first_not_of(' ')));
        if (i >= names.size() || names.size() < 2 || out_of_time()) break;
        GenKernel k = best_;
        names.erase(names.begin() + std::ptrdiff_t(i));
        std::string ret = "return ";
        for (size_t j = 0; j < names.size(); ++j) ret += (j ? ", " : "") + names[j];
        k.body[si].fmt = ret;
        if (i < k.outputs.size()) k.outputs.erase(k.outputs.begin() + std::ptrdiff_t(i));
        if (interesting(k, input_)) {
          best_ = k;
          changed = true;
          --i;
          log_("  dropped a returned tensor");
        }
      }
    }
    return changed;
  }

  bool reduce_statements() {
    bool changed = false;
    std::vector<Path> paths;
    collect_paths(best_.body, {}, paths);
    // From the last statement up: later statements use earlier ones, so deleting from the end
    // keeps more candidates well formed.
    for (size_t i = paths.size(); i-- > 0 && !out_of_time();) {
      // Deleting in reverse pre-order never shifts the statements still to be tried.
      GenKernel k = best_;
      std::vector<Stmt>* list = parent_list(k.body, paths[i]);
      if (!list) continue;
      list->erase(list->begin() + std::ptrdiff_t(paths[i].back()));
      if (interesting(k, input_)) {
        best_ = k;
        changed = true;
        log_("  removed a statement (" + std::to_string(accepted_) + " changes kept)");
      }
    }
    return changed;
  }

  bool reduce_expressions() {
    bool changed = false;
    std::vector<Path> paths;
    collect_paths(best_.body, {}, paths);
    for (const Path& sp : paths) {
      if (out_of_time()) break;
      bool again = true;
      while (again && !out_of_time()) {
        again = false;
        Stmt* s = stmt_at(best_.body, sp);
        if (!s) break;
        for (size_t ei = 0; ei < s->exprs.size() && !again; ++ei) {
          std::vector<Path> nodes;
          collect_nodes(s->exprs[ei], {}, nodes);
          for (const Path& np : nodes) {
            Expr& node = node_at(s->exprs[ei], np);
            for (size_t kid = 0; kid < node.kids.size(); ++kid) {
              GenKernel k = best_;
              Expr& target = node_at(stmt_at(k.body, sp)->exprs[ei], np);
              Expr replacement = target.kids[kid];
              target = replacement;
              if (interesting(k, input_)) {
                best_ = k;
                changed = again = true;
                log_("  simplified an expression (" + std::to_string(accepted_) + " changes kept)");
                break;
              }
            }
            if (again) break;
          }
        }
      }
    }
    return changed;
  }

  bool try_input(const InputRecipe& in) {
    if (!interesting(best_, in)) return false;
    input_ = in;
    log_("  input now " + in.str());
    return true;
  }

  bool reduce_input() {
    bool changed = false;
    auto shrink = [&](int64_t InputRecipe::*field, int64_t floor) {
      while (!out_of_time() && input_.*field > floor) {
        InputRecipe in = input_;
        in.*field = std::max(floor, in.*field / 2);
        if (!try_input(in)) {
          in = input_;
          in.*field -= 1;
          if (!try_input(in)) break;
        }
        changed = true;
      }
    };
    shrink(&InputRecipe::batch, 0);
    shrink(&InputRecipe::max_len, 0);
    shrink(&InputRecipe::features, 0);
    shrink(&InputRecipe::lead, 0);
    shrink(&InputRecipe::tail, 0);
    shrink(&InputRecipe::weight_cols, 1);
    for (LengthDist d : {LengthDist::tiny, LengthDist::uniform}) {
      if (input_.dist == d || out_of_time()) continue;
      InputRecipe in = input_;
      in.dist = d;
      if (try_input(in)) {
        changed = true;
        break;
      }
    }
    if (input_.values != DType::f32 && !out_of_time()) {
      InputRecipe in = input_;
      in.values = DType::f32;
      changed |= try_input(in);
    }
    return changed;
  }

  GenKernel best_;
  Settings settings_;
  CaseFailure target_;
  InputRecipe input_;
  std::vector<std::string> backends_;
  double timeout_s_;
  std::string cache_dir_;
  double deadline_;
  std::function<void(const std::string&)> log_;
  int tries_ = 0;
  int accepted_ = 0;
};

}  // namespace

Reduced minimize(const GenKernel& kernel, const Settings& settings, const CaseFailure& target,
                 double run_timeout_s, double budget_s, const std::string& cache_dir,
                 const std::function<void(const std::string&)>& log) {
  return Reducer(kernel, settings, target, run_timeout_s, budget_s, cache_dir, log).run();
}

}  // namespace jagtile::fuzz
