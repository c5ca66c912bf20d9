"""The Helion drop-in: a Helion file with only its imports changed runs on jagtile."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

import jagtile
from conftest import EXAMPLES, example_inputs, reference


def helion_file(tmp_path: pathlib.Path, name: str) -> pathlib.Path:
    """A bundled example (a Helion kernel) with its two helion imports switched to jagtile's,
    plus a line that calls it: the whole file is run by Python."""
    text = (EXAMPLES / f"{name}.py").read_text()
    assert "import helion\n" in text and "import helion.language as hl\n" in text
    text = text.replace("import helion\n", "import jagtile.helion as helion\n")
    text = text.replace("import helion.language as hl\n", "import jagtile.helion.language as hl\n")
    if "import torch" in text:  # annotations are strings (from __future__) : torch not needed
        text = text.replace("import torch\n", "")
    path = tmp_path / f"{name}_on_jagtile.py"
    path.write_text(text)
    return path


def import_file(path: pathlib.Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["jagged_sum", "jagged_mean", "jagged_softmax"])
def test_helion_file_runs_with_changed_imports(tmp_path, name):
    module = import_file(helion_file(tmp_path, name))
    k = getattr(module, name)
    assert isinstance(k, jagtile.Kernel)
    a = example_inputs(name)
    np.testing.assert_allclose(k(**a), reference(name, a), rtol=1e-4, atol=1e-5)


def test_helion_config_and_settings(tmp_path):
    import jagtile.helion as helion

    cfg = helion.Config(block_sizes=[2, 16, 8], num_warps=4, num_stages=2)
    assert cfg.block_sizes == [2, 16, 8] and cfg.other == {"num_warps": 4, "num_stages": 2}
    path = helion_file(tmp_path, "jagged_sum")
    text = path.read_text().replace(
        "@helion.kernel()",
        "@helion.kernel(config=helion.Config(block_sizes=[2, 16, 8], num_warps=4),"
        " static_shapes=True)")
    path.write_text(text)
    k = import_file(path).jagged_sum
    assert k.settings == {"static_shapes": True}
    d = jagtile.explain(k, **example_inputs("jagged_sum"))
    assert "block_sizes=[2, 16, 8]" in d["config"]
