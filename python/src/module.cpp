// jagtile._core: the nanobind module behind the Python package. It exposes the public C++ API
// (Program, Options, explain, dry_run, jagged_reduce) and converts at the boundary: arguments
// to ArgValues (tensors through DLPack, without copies), results to numpy arrays or torch
// tensors (without copies), UserError to jagtile.KernelError. The GIL is released while a
// kernel runs. The pure-Python layer (python/jagtile/*.py) builds the user-facing API on this.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>

#include "jagtile/autotune.h"
#include "jagtile/compiler.h"
#include "jagtile/error.h"
#include "jagtile/reduce.h"
#include "jagtile/thread_pool.h"
#include "tensors.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace jagtile::python {
namespace {

// jagtile.KernelError, set by the package's __init__ (a Python class, so users can subclass
// and pickle it like any exception).
nb::object& kernel_error_class() {
  static nb::object* cls = new nb::object();  // never destroyed: outlives interpreter teardown
  return *cls;
}

// A jagtile.KernelError carrying the error's parts (or a ValueError before the package has set
// the class).
nb::object kernel_error_object(const UserError& e) {
  nb::object& cls = kernel_error_class();
  if (!cls.is_valid()) return nb::handle(PyExc_ValueError)(std::string(e.what()));
  nb::object exc = cls(std::string(e.what()));
  exc.attr("message") = e.message();
  exc.attr("hint") = e.hint();
  exc.attr("file") = e.loc().file;
  exc.attr("line") = e.loc().line;
  exc.attr("column") = e.loc().column;
  return exc;
}

void raise_kernel_error(const UserError& e) {
  nb::object exc = kernel_error_object(e);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
}

// jagtile.set_num_threads: 0 means not set (then torch's count when torch is imported, else the
// default pool's size).
std::atomic<int> g_num_threads{0};

int current_num_threads() {
  int n = g_num_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : torch_num_threads();
}

// The options of one call: the kernel's, with the worker count in effect now.
Options with_threads(const Options& options) {
  Options o = options;
  if (o.num_threads <= 0) o.num_threads = current_num_threads();
  return o;
}

ArgValue arg_from_python(nb::handle v, const std::string& name) {
  if (v.is_none()) return NoneArg{};
  if (PyBool_Check(v.ptr())) return int64_t(v.ptr() == Py_True);
  if (PyLong_Check(v.ptr())) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
    if (overflow)
      throw UserError("argument '" + name + "' does not fit in a 64-bit integer",
                      "kernel integers are 64-bit");
    return int64_t(x);
  }
  if (PyFloat_Check(v.ptr())) return PyFloat_AsDouble(v.ptr());
  if (is_array_like(v)) return tensor_from_python(v, name);
  // numpy scalars and 0-d results of .item()-less code: take their Python value.
  if (nb::hasattr(v, "__index__")) return arg_from_python(nb::int_(v), name);
  if (nb::hasattr(v, "__float__")) return arg_from_python(nb::float_(v), name);
  throw UserError("argument '" + name + "' is a Python " +
                      std::string(nb::type_name(v.type()).c_str()) + ", which a kernel cannot take",
                  "pass a tensor (numpy, torch or any DLPack producer), an int, a float or None");
}

ArgMap args_from_python(const nb::dict& args) {
  ArgMap out;
  for (auto [k, v] : args) {
    std::string name = nb::cast<std::string>(k);
    out.emplace(name, arg_from_python(v, name));
  }
  return out;
}

Options make_options(const std::string& backend, bool checked, int num_threads,
                     const std::vector<int64_t>& block_sizes, int64_t chunk_rows, int workers) {
  Options o;
  std::optional<Backend> b = parse_backend(backend);
  if (!b)
    throw UserError("unknown backend '" + backend + "'",
                    "use one of auto, template, cpu, cuda, interp");
  o.backend = *b;
  o.checked = checked;
  o.num_threads = num_threads;
  o.config.block_sizes = block_sizes;
  o.config.reduce_chunk_rows = chunk_rows;
  o.config.reduce_workers = workers;
  return o;
}

const char* kind_name(ParamKind k) {
  switch (k) {
    case ParamKind::tensor:
      return "tensor";
    case ParamKind::optional_tensor:
      return "optional_tensor";
    case ParamKind::int_scalar:
      return "int";
    case ParamKind::float_scalar:
      return "float";
    case ParamKind::bool_scalar:
      return "bool";
    case ParamKind::untyped:
      return "untyped";
  }
  return "untyped";
}

nb::object value_to_python(const ArgValue& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return nb::int_(*i);
  if (auto* d = std::get_if<double>(&v)) return nb::float_(*d);
  return nb::none();
}

nb::list kernels_to_python(const Program& p) {
  nb::list out;
  for (const KernelInfo& k : p.kernels()) {
    nb::list params;
    for (const ParamInfo& pi : k.params) {
      nb::dict d;
      d["name"] = pi.name;
      d["kind"] = kind_name(pi.kind);
      d["has_default"] = pi.default_value.has_value();
      d["default"] = pi.default_value ? value_to_python(*pi.default_value) : nb::none();
      params.append(d);
    }
    nb::list settings;
    for (const KernelSetting& s : k.settings) {
      nb::dict d;
      d["key"] = s.key;
      d["value"] = s.value;
      d["effect"] = s.effect;
      settings.append(d);
    }
    nb::dict d;
    d["name"] = k.name;
    d["line"] = k.line;
    d["params"] = params;
    d["settings"] = settings;
    d["warnings"] = k.warnings;
    out.append(d);
  }
  return out;
}

nb::object outputs_to_python(const std::vector<Tensor>& outs, Framework fw) {
  if (outs.size() == 1) return tensor_to_python(outs[0], fw);
  nb::list l;
  for (const Tensor& t : outs) l.append(tensor_to_python(t, fw));
  return nb::tuple(l);
}

// A call: positional arguments bind to `names` (the kernel's parameters, in order), keywords
// by name; the results are torch tensors when any argument is one, numpy arrays otherwise.
nb::object call(const Program& program, const std::string& kernel, const nb::list& names,
                const nb::tuple& args, const nb::dict& kwargs, const Options& kernel_options) {
  if (args.size() > names.size()) {
    std::string list;
    for (nb::handle n : names) list += (list.empty() ? "" : ", ") + nb::cast<std::string>(n);
    throw UserError("kernel '" + kernel + "' takes " + std::to_string(names.size()) +
                        " argument(s) (" + list + ") but " + std::to_string(args.size()) +
                        " were given positionally",
                    "pass the extra values by keyword, or drop them");
  }
  ArgMap bound;
  bool torch_out = false;
  for (size_t i = 0; i < args.size(); ++i) {
    torch_out = torch_out || is_torch_tensor(args[i]);
    std::string name = nb::cast<std::string>(names[i]);
    ArgValue value = arg_from_python(args[i], name);
    bound.emplace(std::move(name), std::move(value));
  }
  for (auto [k, v] : kwargs) {
    std::string name = nb::cast<std::string>(k);
    torch_out = torch_out || is_torch_tensor(v);
    if (!bound.emplace(name, arg_from_python(v, name)).second)
      throw UserError(
          "kernel '" + kernel + "' got argument '" + name + "' twice (positionally and by keyword)",
          "pass it once");
  }
  const Options options = with_threads(kernel_options);
  CallResult result;
  {
    // The kernel reads only jagtile Tensors (which hold their own references), so other Python
    // threads may run meanwhile.
    nb::gil_scoped_release unlocked;
    result = program.call(kernel, bound, options);
  }
  return outputs_to_python(result.outputs, torch_out ? Framework::torch : Framework::numpy);
}

// What a jagtile.Kernel's calls need, made once per Kernel (python/jagtile/_kernel.py): with it
// a call goes from Python straight into C++, without running a Python frame.
struct CallState {
  nb::object program_object;  // keeps the Program alive
  const Program* program;
  std::string kernel;
  nb::list names;  // the kernel's parameters, in order
  Options options;
  bool relocate_errors;  // the kernel is a nested function: errors need their columns shifted
};

// Kernel.__call__. The Kernel makes its CallState on its first call (`_prepare_call`, which
// parses the source of a decorated function). Errors in a nested function's source are handed
// to `_relocate_error`, which raises them again at the column in the user's file.
nb::object kernel_call(nb::handle self, const nb::args& args, const nb::kwargs& kwargs) {
  static PyObject* state_name = PyUnicode_InternFromString("_call_state");  // never freed
  nb::object state = nb::steal(PyObject_GetAttr(self.ptr(), state_name));
  if (!state.is_valid()) throw nb::python_error();
  if (state.is_none()) state = self.attr("_prepare_call")();
  const CallState& st = nb::cast<const CallState&>(state);
  try {
    return call(*st.program, st.kernel, st.names, args, kwargs, st.options);
  } catch (const UserError& e) {
    if (st.relocate_errors) self.attr("_relocate_error")(kernel_error_object(e));
    throw;
  }
}

nb::dict explain(const Program& program, const std::string& kernel, const nb::dict& args,
                 const Options& kernel_options, bool ir, bool code) {
  ArgMap bound = args_from_python(args);
  const Options options = with_threads(kernel_options);
  std::string ir_text, code_text;
  DispatchDecision d;
  {
    nb::gil_scoped_release unlocked;
    d = program.explain(kernel, bound, options, ir ? &ir_text : nullptr,
                        code ? &code_text : nullptr);
  }
  // The keys of `jagtile explain --json`.
  nb::dict out;
  out["kernel"] = d.kernel;
  out["dispatch"] = d.dispatch;
  out["reason"] = d.reason;
  out["plan"] = d.plan;
  out["device"] = d.device;
  out["backend"] = d.backend;
  out["config"] = d.config;
  nb::list guards;
  for (const DispatchGuard& g : d.guards) {
    nb::dict gd;
    gd["condition"] = g.condition;
    gd["holds"] = g.holds;
    gd["values"] = g.values;
    guards.append(gd);
  }
  out["guards"] = guards;
  nb::list unfilled;
  for (const std::string& name : d.unfilled_outputs) unfilled.append(name);
  out["unfilled_outputs"] = unfilled;
  nb::list parallel;
  for (const std::string& line : d.parallel_loops) parallel.append(line);
  out["parallel_loops"] = parallel;
  if (ir) out["ir"] = ir_text;
  if (code) out["code"] = code_text;
  return out;
}

// jagtile.autotune: the keys of `jagtile autotune --json`, plus the search's log.
nb::dict autotune_call(const Program& program, const std::string& kernel, const nb::dict& args,
                       const Options& kernel_options, const std::string& effort, double budget,
                       bool use_stored, uint64_t seed) {
  ArgMap bound = args_from_python(args);
  const Options options = with_threads(kernel_options);
  TuneOptions tune;
  std::optional<TuneEffort> e = parse_tune_effort(effort);
  if (!e)
    throw UserError("autotune effort must be 'quick' or 'full', got '" + effort + "'",
                    "pass effort=\"quick\" (seconds) or effort=\"full\" (bounded by budget)");
  tune.effort = *e;
  tune.budget_s = budget;
  tune.use_stored = use_stored;
  tune.seed = seed;
  TuneResult r;
  {
    nb::gil_scoped_release unlocked;
    r = autotune(program, kernel, bound, options, tune);
  }
  nb::dict out;
  out["kernel"] = r.kernel;
  nb::dict config;
  config["block_sizes"] = r.config.block_sizes;
  config["reduce_chunk_rows"] = r.config.reduce_chunk_rows;
  config["reduce_workers"] = r.config.reduce_workers;
  out["config"] = config;
  out["config_text"] = r.config.str();
  out["default_ms"] = r.default_ms;
  out["best_ms"] = r.best_ms;
  out["speedup"] = r.speedup;
  out["candidates"] = r.candidates;
  out["rejected"] = r.rejected;
  out["seconds"] = r.seconds;
  out["from_cache"] = r.from_cache;
  out["key"] = r.key;
  out["store"] = r.store_path;
  out["log"] = r.log;
  return out;
}

// [(shape, dtype name, device)] of each output, from the host part alone.
nb::list dry_run(const Program& program, const std::string& kernel, const nb::dict& args,
                 const Options& kernel_options) {
  ArgMap bound = args_from_python(args);
  const Options options = with_threads(kernel_options);
  std::vector<Tensor> outs;
  {
    nb::gil_scoped_release unlocked;
    outs = program.specialise(kernel, bound, options).dry_run(bound);
  }
  nb::list l;
  for (const Tensor& t : outs)
    l.append(nb::make_tuple(t.shape(), std::string(dtype_name(t.dtype())), t.device().str()));
  return l;
}

nb::object reduce(nb::handle values, nb::handle offsets, const std::string& op,
                  nb::handle feature_counts) {
  bool torch_out = is_torch_tensor(values);
  ReduceSpec spec;
  if (op == "sum")
    spec.op = ReduceOp::sum;
  else if (op == "mean")
    spec.op = ReduceOp::mean;
  else if (op == "max")
    spec.op = ReduceOp::max;
  else if (op == "min")
    spec.op = ReduceOp::min;
  else
    throw UserError("unknown reduction op '" + op + "'", "use one of sum, mean, max, min");
  Tensor v = tensor_from_python(values, "values");
  Tensor o = tensor_from_python(offsets, "offsets");
  if (!feature_counts.is_none())
    spec.feature_counts = tensor_from_python(feature_counts, "feature_counts");
  spec.num_threads = current_num_threads();
  Tensor out;
  {
    nb::gil_scoped_release unlocked;
    out = jagged_reduce(v, o, spec);
  }
  return tensor_to_python(out, torch_out ? Framework::torch : Framework::numpy);
}

}  // namespace
}  // namespace jagtile::python

NB_MODULE(_core, m) {
  using namespace jagtile;
  using namespace jagtile::python;
  m.doc() = "jagtile's C++ core (use the jagtile package, not this module)";
  // Kernels registered as torch ops (and torch.compile's caches) are held by torch's global
  // registries, which are never torn down: nanobind would report them as leaks at every exit.
  nb::set_leak_warnings(false);

  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const UserError& e) {
      raise_kernel_error(e);
    } catch (const InternalError& e) {
      PyErr_SetString(
          PyExc_RuntimeError,
          (std::string("jagtile internal error (a bug in jagtile): ") + e.what()).c_str());
    }
  });

  m.def("set_kernel_error_class", [](nb::object cls) { kernel_error_class() = std::move(cls); });

  nb::class_<Options>(m, "Options")
      .def(nb::new_(&make_options), "backend"_a = "auto", "checked"_a = true, "num_threads"_a = 0,
           "block_sizes"_a = std::vector<int64_t>{}, "chunk_rows"_a = 0, "workers"_a = 0)
      .def_prop_ro("config", [](const Options& o) { return o.config.str(); })
      .def_prop_ro("num_threads", [](const Options& o) { return o.num_threads; });

  nb::class_<Program>(m, "Program")
      .def_static("from_file", &Program::from_file, "path"_a)
      .def_static("from_source", &Program::from_source, "source"_a, "file_name"_a)
      .def("kernels", &kernels_to_python)
      .def("cached_specialisations", &Program::cached_specialisations);

  nb::class_<CallState>(m, "CallState")
      .def(
          "__init__",
          [](CallState* st, nb::object program, const std::string& kernel, nb::list names,
             const Options& options, bool relocate_errors) {
            const Program* p = &nb::cast<const Program&>(program);
            new (st) CallState{std::move(program), p,       kernel,
                               std::move(names),   options, relocate_errors};
          },
          "program"_a, "kernel"_a, "names"_a, "options"_a, "relocate_errors"_a);
  // A method (it binds `self`), so Kernel.__call__ can be this C++ function itself.
  m.def("kernel_call", &kernel_call, nb::is_method(), "args"_a, "kwargs"_a);
  m.def("explain", &explain, "program"_a, "kernel"_a, "args"_a, "options"_a, "ir"_a = false,
        "code"_a = false);
  m.def("dry_run", &dry_run, "program"_a, "kernel"_a, "args"_a, "options"_a);
  m.def("autotune", &autotune_call, "program"_a, "kernel"_a, "args"_a, "options"_a,
        "effort"_a = "quick", "budget"_a = 0.0, "use_stored"_a = true, "seed"_a = 0);
  m.def("jagged_reduce", &reduce, "values"_a, "offsets"_a, "op"_a, "feature_counts"_a.none());
  m.def(
      "set_num_threads", [](int n) { g_num_threads = n > 0 ? n : 0; }, "n"_a);
  m.def("current_num_threads", &current_num_threads);
  m.def(
      "render_error",
      [](const std::string& message, const std::string& hint, const std::string& file, int line,
         int column, const std::string& source_line) {
        return std::string(
            UserError(message, hint, SourceLoc{file, line, column}, source_line).what());
      },
      "message"_a, "hint"_a, "file"_a, "line"_a, "column"_a, "source_line"_a);
  // Test hooks: the data pointer a wrapped input has (the zero-copy tests compare it with the
  // producer's own pointer) and whether two results share one storage.
  m.def("wrapped_data_pointer",
        [](nb::handle obj) { return uintptr_t(tensor_from_python(obj, "x").raw_data()); });
  // The C++ side of the call-overhead benchmark (bench/python_overhead.py): the median time of
  // Program::call on arguments converted once, measured in this process, so the difference to
  // a Python call is what the package adds.
  m.def(
      "cpp_call_median_us",
      [](const Program& program, const std::string& kernel, const nb::dict& args,
         const Options& options, int repeats) {
        ArgMap bound = args_from_python(args);
        const Options call_options = with_threads(options);
        std::vector<double> us;
        nb::gil_scoped_release unlocked;
        for (int i = 0; i < repeats; ++i) {
          auto start = std::chrono::steady_clock::now();
          program.call(kernel, bound, call_options);
          us.push_back(
              std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                  .count());
        }
        std::sort(us.begin(), us.end());
        return us.empty() ? 0.0 : us[us.size() / 2];
      },
      "program"_a, "kernel"_a, "args"_a, "options"_a, "repeats"_a);
  m.def("default_num_threads", &default_num_threads);
  // Whether torch tensors take jagtile._torch_bridge (tests assert it where torch is installed).
  m.def("torch_bridge_active", &torch_bridge_active);
  // Parallel regions on torch's intra-op pool (tensors.h); the count of regions run that way.
  m.def("use_torch_pool", &use_torch_pool, "enabled"_a, "late_after_ns"_a = 1000000);
  m.def("torch_pool_active", &torch_pool_active);
  m.def("executor_regions", &executor_regions);
  m.def("cpu_isa", [] { return std::string(reduce_cpu_isa()); });
  // The FLOP-peak probe (jagtile::fma_stream) on the threads kernels use now: FLOPs done.
  m.def("fma_stream", [](int64_t steps) {
    nb::gil_scoped_release unlocked;
    ThreadPool& pool = ThreadPool::global();
    return fma_stream(pool, std::min(current_num_threads(), pool.size()), steps);
  });
  // The bf16 FLOP-peak probe (jagtile::bf16_stream) likewise: FLOPs done, 0 without a bf16 unit.
  m.def("bf16_stream", [](int64_t steps) {
    nb::gil_scoped_release unlocked;
    ThreadPool& pool = ThreadPool::global();
    return bf16_stream(pool, std::min(current_num_threads(), pool.size()), steps);
  });
  m.def("bf16_probe_unit", [] { return std::string(bf16_probe_unit()); });
}
