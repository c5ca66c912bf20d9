// Checks that run before specialisation (no argument types needed): file structure, names used
// before definition, known functions/methods/attributes (with "did you mean"), and where loops,
// returns and device-only calls may appear. The first problem is thrown as a located UserError.
#include "lang/check.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "lang/imports.h"
#include "lang/known.h"
#include "lang/module_constants.h"

namespace jagtile::lang {

namespace {

using ast::Expr;
using ast::ExprKind;
using ast::Pos;
using ast::Stmt;
using ast::StmtKind;

// What a name is bound to, as far as the checker can tell without types.
// `foreign`: an import the kernel language does not understand (any use is an error).
enum class Binding { module, foreign, builtin, host, device, tile };

std::string did_you_mean(const std::string& best) {
  return best.empty() ? std::string() : "did you mean '" + best + "'?";
}

// The dotted name of an attribute chain rooted at a name ("torch.nn.functional.silu"), or "".
std::string dotted(const Expr& e) {
  if (e.kind == ExprKind::name) return e.id;
  if (e.kind != ExprKind::attribute || !e.value) return "";
  std::string base = dotted(*e.value);
  return base.empty() ? "" : base + "." + e.id;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const Expr* chain_root(const Expr& e) {
  const Expr* r = &e;
  while (r->kind == ExprKind::attribute && r->value) r = r->value.get();
  return r;
}

class KernelChecker {
 public:
  KernelChecker(const ast::Module& m, const Stmt& def)
      : m_(m), def_(def), imports_(imported_names(m)) {
    for (const auto& b : builtin_functions()) names_[b] = Binding::builtin;
    for (const auto& [name, imported] : imports_) {
      names_[name] = imported.understood ? Binding::module : Binding::foreign;
    }
  }

  void run() {
    std::unordered_map<std::string, Pos> seen;
    for (const auto& p : def_.params) {
      if (seen.count(p.name)) {
        fail(p.pos, "duplicate parameter '" + p.name + "' in kernel '" + def_.name + "'",
             "rename one of the parameters");
      }
      seen[p.name] = p.pos;
      if (p.default_value) check_expr(*p.default_value);
    }
    for (const auto& p : def_.params) names_[p.name] = Binding::host;
    record_assignments(def_.body);
    check_block(def_.body);
  }

 private:
  [[noreturn]] void fail(Pos pos, std::string msg, std::string hint = {}) {
    throw ast::error_at(m_, pos, std::move(msg), std::move(hint));
  }

  bool in_device() const { return device_depth_ > 0; }

  // Where each name is first assigned anywhere in the kernel, for "assigned later" hints.
  void record_assignments(const ast::StmtList& body) {
    for (const auto& s : body) {
      for (const auto& t : s->targets) record_target(*t, s->pos.line);
      bool binds = s->kind == StmtKind::for_loop || (s->kind == StmtKind::ann_assign && s->value);
      if (s->target && binds) record_target(*s->target, s->pos.line);
      record_assignments(s->body);
      record_assignments(s->orelse);
    }
  }
  void record_target(const Expr& t, int line) {
    if (t.kind == ExprKind::name) first_assignment_.emplace(t.id, line);
    for (const auto& e : t.elts) record_target(*e, line);
  }

  void check_block(const ast::StmtList& body) {
    for (const auto& s : body) check_stmt(*s);
  }

  void check_stmt(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::expr:
        check_expr(*s.value);
        return;
      case StmtKind::assign:
        check_expr(*s.value);
        for (const auto& t : s.targets) bind_target(*t, s.value.get());
        return;
      case StmtKind::aug_assign:
        check_expr(*s.target);
        check_expr(*s.value);
        return;
      case StmtKind::ann_assign:
        if (!s.value) return;  // `n: int` alone binds nothing, as in Python
        check_expr(*s.value);
        bind_target(*s.target, s.value.get());
        return;
      case StmtKind::for_loop:
        check_for(s);
        return;
      case StmtKind::if_stmt:
        check_expr(*s.test);
        check_block(s.body);
        check_block(s.orelse);
        return;
      case StmtKind::while_loop:
        fail(s.pos, "'while' loops are not supported in kernels",
             "loop with 'for ... in hl.tile(n)' (or hl.grid / hl.jagged_tile)");
      case StmtKind::return_stmt:
        if (in_device()) {
          fail(s.pos, "'return' inside a device loop",
               "store results into an output tensor inside the loop and return it after the "
               "loop");
        }
        if (s.value) check_expr(*s.value);
        return;
      case StmtKind::assert_stmt:
        check_expr(*s.test);
        if (s.msg) check_expr(*s.msg);
        return;
      case StmtKind::pass:
        return;
      case StmtKind::break_stmt:
      case StmtKind::continue_stmt:
        fail(s.pos,
             std::string("'") + (s.kind == StmtKind::break_stmt ? "break" : "continue") +
                 "' is not supported: device loops always cover their whole range",
             "mask the work instead (torch.where, or extra_mask= in hl.load/hl.store)");
      case StmtKind::import:
        fail(s.pos, "imports inside a kernel are not supported",
             "move the import to the top of the file");
      case StmtKind::function_def:
        fail(s.pos, "nested function definitions are not supported",
             "define '" + s.name + "' as a kernel of its own at the top level");
      case StmtKind::unsupported:
        fail(s.pos, s.what + " is not supported in kernels",
             "kernels use assignments, if, for over hl.tile/hl.grid/hl.jagged_tile, assert and "
             "return");
    }
  }

  // Binds assignment targets; subscript/attribute targets are checked as uses.
  void bind_target(const Expr& t, const Expr* value) {
    switch (t.kind) {
      case ExprKind::name: {
        Binding b = in_device() ? Binding::device : Binding::host;
        if (value && value->kind == ExprKind::name) {
          auto it = names_.find(value->id);
          if (it != names_.end() && it->second == Binding::tile) b = Binding::tile;
        }
        names_[t.id] = b;
        return;
      }
      case ExprKind::tuple:
      case ExprKind::list:
        for (const auto& e : t.elts) bind_target(*e, nullptr);
        return;
      default:
        check_expr(t);
        return;
    }
  }

  [[noreturn]] void foreign_use(const Expr& name, const std::string& member) {
    throw foreign_import_error(m_, name.pos, name.id, imports_.at(name.id), member);
  }

  // The canonical module member an expression names ("hl.tile" for hl.tile, or for lang.tile
  // after `import helion.language as lang`), when it is rooted at a module name that the kernel
  // has not rebound; "" otherwise. A foreign import at the root is an error.
  std::string module_member(const Expr& e) {
    if (e.kind != ExprKind::attribute) return "";
    const Expr* root = chain_root(e);
    if (root->kind != ExprKind::name) return "";
    auto it = names_.find(root->id);
    if (it != names_.end() && it->second == Binding::foreign) {
      const Expr* first = &e;
      while (first->value.get() != root) first = first->value.get();
      foreign_use(*root, first->id);
    }
    if (it == names_.end() || it->second != Binding::module) return "";
    std::string q = dotted(e);
    std::string c = canonical_member(imports_.at(root->id).target + q.substr(root->id.size()));
    if (c.empty()) {
      fail(root->pos, "unknown module '" + root->id + "' in '" + q + "'",
           "kernels can use hl (helion.language), torch, F (torch.nn.functional) and math");
    }
    return c;
  }

  [[noreturn]] void unknown_member(const Expr& e, const std::string& canonical, bool called) {
    std::string module = canonical.substr(0, canonical.find('.'));
    std::string member = canonical.substr(canonical.find('.') + 1);
    // torch dtypes jagtile does not have, each with the one to use instead.
    static const std::pair<const char*, const char*> other_dtypes[] = {
        {"int8", "int32"},          {"uint8", "int32"},       {"int16", "int32"},
        {"short", "int32"},         {"uint16", "int32"},      {"uint32", "int64"},
        {"uint64", "int64"},        {"complex64", "float32"}, {"complex128", "float64"},
        {"cfloat", "float32"},      {"cdouble", "float64"},   {"float8_e4m3fn", "bfloat16"},
        {"float8_e5m2", "bfloat16"}};
    if (module == "torch" && !called)
      for (const auto& [name, instead] : other_dtypes)
        if (member == name)
          fail(
              e.name_pos.line ? e.name_pos : e.pos, "torch." + member + " is not a jagtile dtype",
              "jagtile has float32, float64, float16, bfloat16, int32, int64 and bool; use torch." +
                  std::string(instead));
    std::string best = closest_match(member, module_members(module));
    std::string hint = did_you_mean(best);
    if (hint.empty()) {
      hint = "see docs/language.md for the functions the kernel language knows";
    }
    fail(e.name_pos.line ? e.name_pos : e.pos,
         std::string(called ? "unknown function '" : "unknown attribute '") + dotted(e) + "'",
         hint);
  }

  void check_for(const Stmt& s) {
    const Expr& it = *s.iter;
    std::string fn;
    if (it.kind == ExprKind::call && it.func) fn = module_member(*it.func);
    if (!is_loop_function(fn)) {
      if (it.kind == ExprKind::call && it.func && it.func->kind == ExprKind::name &&
          it.func->id == "range") {
        fail(it.pos, "'range' loops are not supported in kernels",
             "use hl.tile(n) for a tile of indices or hl.grid(n) for one index at a time");
      }
      if (!fn.empty() && !is_known_function(fn)) unknown_member(*it.func, fn, true);
      fail(it.pos, "a for loop must iterate over hl.tile(...), hl.grid(...) or hl.jagged_tile(...)",
           "device loops are the only loops in the kernel language");
    }
    if (fn == "hl.jagged_tile") {
      if (!in_device()) {
        fail(it.pos,
             "jagged_tile cannot be the outermost loop: it needs an enclosing tile that supplies "
             "its items",
             "loop over the items first: for tile_b in hl.tile(num_items): ... for tile_k in "
             "hl.jagged_tile(lengths)");
      }
      check_signature(it, *function_signature(fn), fn);
      check_jagged_extents(*it.args[0]);
    } else {
      check_signature(it, *function_signature(fn), fn);
    }
    for (const auto& a : it.args) check_expr(*a);
    for (const auto& k : it.keywords) check_expr(*k.value);
    check_loop_target(*s.target);
    ++device_depth_;
    check_block(s.body);
    --device_depth_;
  }

  void check_loop_target(const Expr& t) {
    if (t.kind == ExprKind::name) {
      names_[t.id] = Binding::tile;
      return;
    }
    if (t.kind == ExprKind::tuple || t.kind == ExprKind::list) {
      for (const auto& e : t.elts) check_loop_target(*e);
      return;
    }
    fail(t.pos, "the variable of a tile loop must be a name (or a tuple of names)",
         "write 'for tile_b in hl.tile(n)' or 'for tile_m, tile_n in hl.tile([m, n])'");
  }

  // True when the expression varies with an enclosing tile (a device value).
  bool is_device_valued(const Expr& e) {
    switch (e.kind) {
      case ExprKind::name: {
        auto it = names_.find(e.id);
        return it != names_.end() && (it->second == Binding::device || it->second == Binding::tile);
      }
      case ExprKind::attribute:
        return e.value && is_device_valued(*e.value);
      case ExprKind::subscript:
        return (e.value && is_device_valued(*e.value)) || (e.index && is_device_valued(*e.index));
      case ExprKind::call:
        for (const auto& a : e.args) {
          if (is_device_valued(*a)) return true;
        }
        return e.func && e.func->kind == ExprKind::attribute && e.func->value &&
               is_device_valued(*e.func->value);
      case ExprKind::binary:
        return is_device_valued(*e.left) || is_device_valued(*e.right);
      case ExprKind::unary:
        return is_device_valued(*e.operand);
      case ExprKind::tuple:
      case ExprKind::list:
        for (const auto& a : e.elts) {
          if (is_device_valued(*a)) return true;
        }
        return false;
      case ExprKind::slice:
        return (e.lower && is_device_valued(*e.lower)) || (e.upper && is_device_valued(*e.upper));
      default:
        return false;
    }
  }

  void check_jagged_extents(const Expr& arg) {
    const char* hint =
        "index a tensor of per-item lengths by an enclosing tile, like "
        "hl.jagged_tile(lengths[tile_b]) or hl.jagged_tile(ends - starts)";
    if (arg.kind == ExprKind::int_lit || arg.kind == ExprKind::float_lit) {
      fail(arg.pos, "hl.jagged_tile needs per-item extents, not the constant " + ast::dump(arg),
           hint);
    }
    check_expr(arg);
    if (!is_device_valued(arg)) {
      fail(arg.pos,
           "hl.jagged_tile needs per-item extents, but '" + ast::dump(arg) +
               "' is a host value that is the same for every item",
           hint);
    }
  }

  void check_expr(const Expr& e) {
    switch (e.kind) {
      case ExprKind::name:
        check_name(e);
        return;
      case ExprKind::attribute:
        check_attribute(e);
        return;
      case ExprKind::call:
        check_call(e);
        return;
      case ExprKind::subscript:
        check_expr(*e.value);
        check_expr(*e.index);
        return;
      case ExprKind::binary:
        check_expr(*e.left);
        check_expr(*e.right);
        return;
      case ExprKind::unary:
        check_expr(*e.operand);
        return;
      case ExprKind::compare:
        check_expr(*e.left);
        for (const auto& c : e.comparators) check_expr(*c);
        return;
      case ExprKind::boolean:
      case ExprKind::tuple:
      case ExprKind::list:
        for (const auto& c : e.elts) check_expr(*c);
        return;
      case ExprKind::slice:
        for (const auto* c : {e.lower.get(), e.upper.get(), e.step.get()}) {
          if (c) check_expr(*c);
        }
        return;
      case ExprKind::dict:
        fail(e.pos, "a dict display ('{...}') has no meaning inside a kernel",
             "dicts are for decorator configs (config={\"block_sizes\": [...]}); in a kernel, "
             "pass values as arguments or use a list or tuple");
      case ExprKind::if_expr:
        check_expr(*e.test);
        check_expr(*e.body);
        check_expr(*e.orelse);
        return;
      default:
        return;  // literals
    }
  }

  std::vector<std::string> visible_names() const {
    std::vector<std::string> out;
    for (const auto& [n, b] : names_) out.push_back(n);
    return out;
  }

  void check_name(const Expr& e) {
    auto it = names_.find(e.id);
    if (it == names_.end()) {
      std::string hint;
      auto later = first_assignment_.find(e.id);
      if (later != first_assignment_.end()) {
        hint = "'" + e.id + "' is first assigned on line " + std::to_string(later->second) +
               "; assign it before this use";
      } else {
        hint = did_you_mean(closest_match(e.id, visible_names()));
      }
      if (hint.empty()) hint = "assign it before this line, or add it as a kernel parameter";
      fail(e.pos, "name '" + e.id + "' is not defined", hint);
    }
    if (it->second == Binding::foreign) foreign_use(e, "");
    if (it->second == Binding::module) {
      fail(e.pos, "module '" + e.id + "' cannot be used as a value",
           "use one of its functions, like " + e.id + ".<function>(...)");
    }
    if (it->second == Binding::builtin) {
      fail(e.pos, "'" + e.id + "' is a function: call it", "write " + e.id + "(...)");
    }
  }

  Binding value_binding(const Expr& v) {
    if (v.kind != ExprKind::name) return Binding::device;
    auto it = names_.find(v.id);
    return it == names_.end() ? Binding::device : it->second;
  }

  void check_attribute(const Expr& e) {
    std::string member = module_member(e);
    if (!member.empty()) {
      if (is_known_constant(member)) return;
      if (is_known_function(member)) {
        fail(e.pos, "'" + dotted(e) + "' is a function: call it", "write " + dotted(e) + "(...)");
      }
      unknown_member(e, member, false);
    }
    check_expr(*e.value);
    if (value_binding(*e.value) == Binding::tile) {
      if (contains(tile_attributes(), e.id)) {
        return;
      }
      std::string hint = did_you_mean(closest_match(e.id, tile_attributes()));
      if (hint.empty()) hint = "tiles have .index, .begin, .end, .block_size and .id";
      fail(e.name_pos, "unknown tile attribute '" + e.id + "'", hint);
    }
    const auto& attrs = tensor_attributes();
    if (contains(attrs, e.id)) return;
    const auto& methods = tensor_methods();
    if (contains(methods, e.id)) {
      fail(e.name_pos, "'" + e.id + "' is a method: call it", "write ." + e.id + "(...)");
    }
    const auto& tattrs = tile_attributes();
    if (contains(tattrs, e.id)) {
      fail(e.name_pos, "'." + e.id + "' is a tile attribute, but this is not a tile",
           "use it on a loop variable, like tile_b." + e.id);
    }
    std::vector<std::string> all = attrs;
    all.insert(all.end(), methods.begin(), methods.end());
    std::string hint = did_you_mean(closest_match(e.id, all));
    if (hint.empty()) hint = "tensors have .shape, .dtype and .device";
    fail(e.name_pos, "unknown attribute '" + e.id + "'", hint);
  }

  void check_call(const Expr& e) {
    const Expr& f = *e.func;
    if (f.kind == ExprKind::name) {
      auto it = names_.find(f.id);
      if (it == names_.end()) {
        std::vector<std::string> candidates = builtin_functions();
        std::string hint = did_you_mean(closest_match(f.id, candidates));
        if (f.id == "range") hint = "loop with hl.tile(n) or hl.grid(n)";
        if (hint.empty()) hint = "kernels can call float(), int() and the hl/torch functions";
        fail(f.pos, "unknown function '" + f.id + "'", hint);
      }
      if (it->second == Binding::foreign) foreign_use(f, "");
      if (it->second != Binding::builtin) {
        fail(f.pos, "'" + f.id + "' is not a function", "only functions and methods can be called");
      }
      if (const Signature* sig = function_signature(f.id)) check_signature(e, *sig, f.id);
    } else if (f.kind == ExprKind::attribute) {
      std::string member = module_member(f);
      if (!member.empty()) {
        check_module_call(e, f, member);
      } else {
        check_method_call(f);
        check_signature(e, *method_signature(f.id), "." + f.id + "()");
      }
    } else {
      fail(f.pos, "only functions and methods can be called",
           "call a function (hl.zeros(...)) or a method (x.sum(...))");
    }
    for (const auto& a : e.args) check_expr(*a);
    for (const auto& k : e.keywords) check_expr(*k.value);
  }

  // Argument count and keyword names against the vocabulary's signature (types come later).
  void check_signature(const Expr& call, const Signature& sig, const std::string& what) {
    int n = static_cast<int>(call.args.size());
    if (n < sig.min_args || (sig.max_args >= 0 && n > sig.max_args)) {
      std::string want = sig.min_args == sig.max_args ? "exactly " + std::to_string(sig.min_args)
                         : sig.max_args < 0
                             ? "at least " + std::to_string(sig.min_args)
                             : std::to_string(sig.min_args) + " to " + std::to_string(sig.max_args);
      Pos pos = n > sig.max_args && sig.max_args >= 0 ? call.args[sig.max_args]->pos : call.pos;
      fail(pos,
           what + " takes " + want + " positional argument" +
               (sig.max_args == 1 && sig.min_args == 1 ? "" : "s") + ", got " + std::to_string(n),
           "write " + sig.usage);
    }
    for (const auto& k : call.keywords) {
      if (contains(sig.keywords, k.name)) continue;
      if (sig.keywords.empty()) {
        fail(k.pos, what + " takes no keyword arguments ('" + k.name + "=' given)",
             "write " + sig.usage);
      }
      std::string hint = did_you_mean(closest_match(k.name, sig.keywords));
      if (hint.empty()) {
        hint = what + " accepts ";
        for (size_t i = 0; i < sig.keywords.size(); ++i) {
          hint += (i ? ", " : "") + sig.keywords[i] + "=";
        }
      }
      fail(k.pos, "unknown keyword argument '" + k.name + "' for " + what, hint);
    }
  }

  void check_module_call(const Expr& call, const Expr& f, const std::string& member) {
    if (!is_known_function(member)) {
      if (is_known_constant(member)) {
        fail(f.pos, "'" + dotted(f) + "' is not a function", "use it without calling it");
      }
      unknown_member(f, member, true);
    }
    if (is_loop_function(member)) {
      fail(call.pos, "'" + member + "(...)' can only be the iterable of a for loop",
           "write 'for tile in " + member + "(...):'");
    }
    if (is_device_only_function(member) && !in_device()) {
      fail(call.pos, "'" + member + "' can only be used inside a device loop",
           "move it inside 'for tile in hl.tile(...)'; on the host, allocate with torch.zeros / "
           "torch.empty");
    }
    check_signature(call, *function_signature(member), member);
  }

  void check_method_call(const Expr& f) {
    check_expr(*f.value);
    if (value_binding(*f.value) == Binding::tile) {
      fail(f.name_pos, "tiles have no methods ('." + f.id + "(...)')",
           "tiles have the attributes .index, .begin, .end, .block_size and .id");
    }
    const auto& methods = tensor_methods();
    if (contains(methods, f.id)) return;
    const auto& attrs = tensor_attributes();
    if (contains(attrs, f.id)) {
      fail(f.name_pos, "'" + f.id + "' is an attribute, not a method",
           "write ." + f.id + " without parentheses");
    }
    std::string hint = did_you_mean(closest_match(f.id, methods));
    if (hint.empty()) {
      hint =
          "tensors have the methods size, numel, item, view, reshape, sum, amax, amin, mean, "
          "to and unsqueeze";
    }
    fail(f.name_pos, "unknown method '" + f.id + "'", hint);
  }

  const ast::Module& m_;
  const Stmt& def_;
  const std::map<std::string, ImportedName> imports_;
  std::unordered_map<std::string, Binding> names_;
  int device_depth_ = 0;
  std::unordered_map<std::string, int> first_assignment_;
};

}  // namespace

void check_module(const ast::Module& m) {
  std::unordered_map<std::string, const Stmt*> kernels;
  for (const auto& s : m.body) {
    switch (s->kind) {
      case StmtKind::import:
        continue;
      case StmtKind::expr:
        if (s->value->kind == ExprKind::str_lit) continue;  // docstring
        break;
      case StmtKind::assign:
      case StmtKind::ann_assign:
        if (is_module_constant(*s)) continue;
        throw ast::error_at(m, s->pos,
                            "top-level statement not allowed here: kernels files hold only kernel "
                            "definitions, imports and constants",
                            "a module-level constant is one name set to numbers, strings, "
                            "tuples, lists, dicts or helion.Config(...); compute anything else "
                            "inside the kernel or pass it as an argument");
      case StmtKind::function_def: {
        auto [it, fresh] = kernels.emplace(s->name, s.get());
        if (!fresh) {
          throw ast::error_at(m, s->pos,
                              "kernel '" + s->name + "' is defined twice (first on line " +
                                  std::to_string(it->second->pos.line) + ")",
                              "rename one of the two definitions");
        }
        decorator_config(m, *s);
        KernelChecker(m, *s).run();
        continue;
      }
      default:
        break;
    }
    throw ast::error_at(m, s->pos,
                        "top-level statement not allowed here: kernels files hold only kernel "
                        "definitions, imports and constants",
                        "move this code into a kernel, or into the program that calls it");
  }
}

std::vector<const ast::Stmt*> kernel_defs(const ast::Module& m) {
  std::vector<const ast::Stmt*> out;
  for (const auto& s : m.body) {
    if (s->kind == StmtKind::function_def) out.push_back(s.get());
  }
  return out;
}

}  // namespace jagtile::lang
