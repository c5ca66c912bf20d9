"""Kernels as Python callables: `@jagtile.kernel` on a function, `jagtile.load(path)` on a
kernel file. A call binds positional arguments to parameter names, hands everything to the C++
Program (which specialises per argument types and caches), and returns numpy arrays for numpy
inputs and torch tensors for torch inputs, all without copies."""

from __future__ import annotations

from typing import Any, Callable

from . import _core
from ._config import Config, config_options
from ._errors import KernelError
from ._source import KernelSource, file_outputs, function_source


class Kernel:
    """One kernel. Call it like the Python function it was written as."""

    def __init__(self, name: str, *, program=None, source: KernelSource | None = None,
                 config: Config | None = None, backend: str = "auto", checked: bool = True,
                 outputs: int = 1, settings: dict | None = None):
        self.__name__ = name
        self.name = name
        self._program = program  # parsed on first use for decorated functions
        self._source = source
        self._config = config
        self._backend = backend
        self._checked = checked
        self._options = None  # _core.Options; the worker count is read per call in C++
        self._params = None
        self._names = None
        self._call_state = None  # _core.CallState, made on the first call
        self.outputs = outputs  # tensors returned (1: a tensor; n > 1: a tuple)
        self.settings = dict(settings or {})  # decorator keywords jagtile records, unused

    # -- compilation --------------------------------------------------------------------------

    def _prog(self):
        if self._program is None:
            src = self._source
            with self._located():
                self._program = _core.Program.from_source(src.text, src.file)
        return self._program

    @property
    def params(self) -> list:
        """The parameters: dicts with name, kind, has_default, default."""
        if self._params is None:
            for k in self._prog().kernels():
                if k["name"] == self.name:
                    self._params = k["params"]
        return self._params

    @property
    def param_names(self) -> list:
        return list(self._param_names())

    def _param_names(self):
        if self._names is None:
            self._names = [p["name"] for p in self.params]
        return self._names

    def _opts(self):
        if self._options is None:
            self._options = config_options(self._config, backend=self._backend,
                                           checked=self._checked, num_threads=0)
        return self._options

    def _bind(self, args, kwargs) -> dict:
        names = self._param_names()
        if len(args) > len(names):
            raise KernelError(
                f"kernel '{self.name}' takes {len(names)} argument(s) "
                f"({', '.join(names)}) but {len(args)} were given positionally")
        bound = dict(zip(names, args))
        for k, v in kwargs.items():
            if k in bound:
                raise KernelError(f"kernel '{self.name}' got argument '{k}' twice "
                                  "(positionally and by keyword)")
            bound[k] = v
        return bound

    # -- calls --------------------------------------------------------------------------------

    # The hot path, in C++ with no Python frame: binding, conversion, the call and the array
    # type of the results. It uses the state `_prepare_call` makes on the first call.
    __call__ = _core.kernel_call

    def _prepare_call(self):
        with self._located():
            program = self._prog()
        relocate = bool(self._source is not None and self._source.col_shift)
        self._call_state = _core.CallState(program, self.name, self._param_names(), self._opts(),
                                           relocate)
        return self._call_state

    def _relocate_error(self, exc):
        """Raises `exc` (a KernelError from a call) at its column in the user's file, if it is
        located in this nested function's source; returns otherwise."""
        _relocate(self._source, exc)

    def explain(self, *args, ir: bool = False, code: bool = False, **kwargs) -> dict:
        """The dispatch decision for these arguments, as `jagtile explain --json` prints it."""
        with self._located():
            return _core.explain(self._prog(), self.name, self._bind(args, kwargs),
                                 self._opts(), ir, code)

    def autotune(self, *args, effort: str = "quick", budget: float = 0.0,
                 use_stored: bool = True, seed: int = 0, **kwargs) -> dict:
        """jagtile.autotune(self, *args, ...): the best config for these arguments, stored."""
        with self._located():
            return _core.autotune(self._prog(), self.name, self._bind(args, kwargs), self._opts(),
                                  effort, float(budget), use_stored, int(seed))

    def output_specs(self, *args, **kwargs) -> list:
        """[(shape, dtype name, device)] of the outputs, from the host part alone."""
        with self._located():
            return _core.dry_run(self._prog(), self.name, self._bind(args, kwargs), self._opts())

    def with_backend(self, backend: str) -> "Kernel":
        """The same kernel (one Program, one specialisation cache) run on `backend`."""
        k = Kernel(self.name, program=self._prog(), source=self._source, config=self._config,
                   backend=backend, checked=self._checked, outputs=self.outputs,
                   settings=self.settings)
        k._params, k._names = self._params, self._names
        return k

    def cached_specialisations(self) -> int:
        return self._prog().cached_specialisations()

    # -- errors -------------------------------------------------------------------------------

    def _located(self):
        return _Relocate(self._source)

    def __repr__(self):
        where = self._source.file if self._source else "kernel file"
        return f"<jagtile.Kernel {self.name} from {where}>"


def _relocate(src: KernelSource | None, exc: BaseException) -> None:
    """Raises `exc` re-rendered at its real column when it is located in a dedented (nested)
    function; returns when there is nothing to shift."""
    if src is None or not src.col_shift or not isinstance(exc, KernelError):
        return
    if getattr(exc, "file", "") != src.file or not getattr(exc, "line", 0):
        return
    if getattr(exc, "relocated", False):  # already shifted by an enclosing block
        return
    column = exc.column + src.col_shift if exc.column else 0
    line = src.lines[exc.line - 1].rstrip("\n") if exc.line <= len(src.lines) else ""
    new = KernelError(_core.render_error(exc.message, exc.hint, exc.file, exc.line, column, line))
    new.message, new.hint, new.file, new.line, new.column = (
        exc.message, exc.hint, exc.file, exc.line, column)
    new.relocated = True
    raise new from None


class _Relocate:
    """A block whose KernelErrors are re-rendered at their real column (see _relocate)."""

    def __init__(self, source: KernelSource | None):
        self.source = source

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is not None:
            _relocate(self.source, exc)
        return False


def kernel(fn: Callable | None = None, *, config: Any = None, configs: Any = None,
           block_sizes: list | None = None, backend: str = "auto", checked: bool = True,
           **settings):
    """`@jagtile.kernel` or `@jagtile.kernel(config=..., block_sizes=[...], backend=...)`.

    The function's body is kernel-language source, read with `inspect` and compiled on the
    first call; Python never runs it. `config` is a jagtile.Config, a helion.Config or a dict;
    with `configs=[...]` the first is used (jagtile.autotune searches configs itself). Other keywords
    (Helion settings such as static_shapes) are recorded in `Kernel.settings`."""

    def wrap(f):
        cfg = config if config is not None else (configs[0] if configs else None)
        if block_sizes is not None:
            cfg = Config.of(cfg).replace(block_sizes=list(block_sizes))
        src = function_source(f)
        k = Kernel(src.name, source=src, config=Config.of(cfg) if cfg is not None else None,
                   backend=backend, checked=checked, outputs=max(src.outputs, 1),
                   settings=settings)
        k.__doc__ = f.__doc__
        k.__wrapped__ = f
        return k

    return wrap(fn) if fn is not None else wrap


class KernelFile(dict):
    """The kernels of a file, by name; also reachable as attributes (`ks.jagged_sum`)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no kernel '{name}' in this file (it has: "
                                 f"{', '.join(self) or 'none'})") from None


def load(path: str, *, config: Any = None, backend: str = "auto",
         checked: bool = True) -> KernelFile:
    """Parses and checks a kernel file (errors raise KernelError at once) and returns its
    kernels. Each is compiled per argument types on its first call."""
    program = _core.Program.from_file(str(path))
    outputs = file_outputs(str(path))
    return KernelFile(
        (k["name"], Kernel(k["name"], program=program, config=Config.of(config),
                           backend=backend, checked=checked,
                           outputs=max(outputs.get(k["name"], 1), 1)))
        for k in program.kernels())
