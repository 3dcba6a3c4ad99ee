"""`pip install .` and the `un-mlir` command line.

The slow tests install the repository once into a fresh virtual
environment (a full C++ build: pyproject.toml, scikit-build-core) and use
the package from outside the repository with no build tree: its native
module, its tools (un_mlir.tools.un_tool), the plugin and the `un-mlir`
command. The others run the command line from the source tree.
"""
import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap
import time
import types

import pytest

from conftest import ROOT, UN_OPT
from un_mlir import cli

VERSION = re.search(r"project\(un-mlir VERSION ([0-9.]+)", (ROOT / "CMakeLists.txt").read_text())[1]
DECOMPOSE = ROOT / "test" / "Transforms" / "decompose.mlir"


def check_decomposed(text):
    assert "un.quadratic_mean" in text and "un.normalize" in text
    assert "un.train_forward" not in text


# ------------------------------------------------------------ installed


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv, env, cwd): un-mlir pip-installed into a fresh venv that sees
    the system's packages (numpy, torch); env has no PYTHONPATH or
    UN_BUILD_DIR, cwd is outside the repository."""
    root = tmp_path_factory.mktemp("packaging")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "UN_BUILD_DIR", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    cwd = root / "elsewhere"
    cwd.mkdir()
    start = time.monotonic()
    proc = subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--no-input", str(ROOT)],
                          cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"pip install failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
    print(f"pip install {ROOT}: {time.monotonic() - start:.0f} s")
    return venv, env, cwd


def run(installed, *cmd):
    _, env, cwd = installed
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


@pytest.mark.slow
def test_installed_package_is_self_contained(installed):
    venv = installed[0].resolve()
    out = run(installed, "python", "-c", textwrap.dedent("""
        import json, un_mlir, un_mlir.compiler as c, un_mlir.tools as t
        assert c.is_registered('un-cpu-pipeline')
        print(json.dumps({"package": un_mlir.__file__, "native": c.native().__file__,
                          "un-opt": t.un_tool("un-opt"), "un-translate": t.un_tool("un-translate"),
                          "un-lsp-server": t.un_tool("un-lsp-server")}))
        """))
    paths = {k: pathlib.Path(v).resolve() for k, v in json.loads(out).items()}
    for what, path in paths.items():
        assert path.is_relative_to(venv), f"{what} is {path}, not in the venv {venv}"
    assert paths["un-opt"] == paths["package"].parent / "bin" / "un-opt"


@pytest.mark.slow
def test_installed_un_mlir_command(installed):
    assert run(installed, "un-mlir", "--version").strip() == f"un-mlir {VERSION}"
    check_decomposed(run(installed, "un-mlir", "opt", "--un-decompose", str(DECOMPOSE)))


@pytest.mark.slow
def test_installed_plugin_loads_into_mlir_opt(installed):
    from un_mlir.tools import llvm_tool

    plugin = next((installed[0] / "lib").glob("python*/site-packages/un_mlir/lib/UNPlugin.so"))
    check_decomposed(run(installed, llvm_tool("mlir-opt"), str(DECOMPOSE), f"--load-dialect-plugin={plugin}",
                         f"--load-pass-plugin={plugin}", "--pass-pipeline=builtin.module(un-decompose)"))


TINY = """
import torch

def factory():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.LayerNorm(16), torch.nn.GELU(),
                                torch.nn.Linear(16, 4))
    return model.eval(), (torch.randn(3, 8),)
"""


@pytest.mark.slow
def test_installed_compile_and_load(installed, tmp_path):
    pytest.importorskip("torch_mlir")
    (tmp_path / "tiny_model.py").write_text(TINY)
    out = tmp_path / "compiled"
    run(installed, "un-mlir", "compile", f"{tmp_path / 'tiny_model.py'}:factory", "--out", str(out))
    diff = run(installed, "python", "-c", textwrap.dedent(f"""
        import sys, torch, un_mlir
        sys.path.insert(0, {str(tmp_path)!r})
        import tiny_model
        model, (x,) = tiny_model.factory()
        y = torch.as_tensor(un_mlir.load({str(out)!r})(x))
        print(float((y - model(x)).abs().max()))
        """))
    assert float(diff) < 1e-5


# ------------------------------------------------------------ source tree


def test_version_is_cmakes():
    assert cli.version() == VERSION
    proc = subprocess.run([sys.executable, "-m", "un_mlir.cli", "--version"], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "python")})
    assert proc.stdout.strip() == f"un-mlir {VERSION}"


@pytest.mark.skipif(not UN_OPT.exists(), reason="un-opt is not built")
def test_opt_runs_un_opt():
    proc = subprocess.run([sys.executable, "-m", "un_mlir.cli", "opt", "--un-decompose", str(DECOMPOSE)],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "python")})
    check_decomposed(proc.stdout)


MODEL = """
import torch

class Masked(torch.nn.Module):
    def forward(self, x, mask=None, scale=2.0):
        return x.masked_fill(mask[:, None], 0.0) * scale

def with_kwargs():
    return Masked(), (torch.ones(4, 3),), {"mask": torch.zeros(4, dtype=torch.bool)}

def single_arg():
    return torch.nn.Linear(3, 2), torch.ones(4, 3)

def wrong():
    return torch.nn.Linear(3, 2)
"""


@pytest.fixture
def fake_api(monkeypatch):
    """un_mlir.api replaced by a stub recording compile() and save() calls."""
    import un_mlir

    calls = []

    class Compiled:
        def save(self, path):
            calls.append(("save", path))

    def compile(model, example_args, example_kwargs=None, dynamic_shapes=None, **options):
        calls.append(("compile", model, example_args, example_kwargs, dynamic_shapes, options))
        return Compiled()

    api = types.ModuleType("un_mlir.api")
    api.compile = compile
    monkeypatch.setitem(sys.modules, "un_mlir.api", api)
    monkeypatch.setattr(un_mlir, "api", api, raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "cli_model", raising=False)
    yield calls
    sys.modules.pop("cli_model", None)


def test_compile_calls_the_api(tmp_path, fake_api):
    torch = pytest.importorskip("torch")
    model = tmp_path / "cli_model.py"
    model.write_text(MODEL)
    out = tmp_path / "out"
    assert cli.main(["compile", f"{model}:with_kwargs", "--out", str(out), "--dynamic-batch", "--threads"]) == 0
    (_, module, args, kwargs, dynamic_shapes, options), save = fake_api
    assert save == ("save", str(out))
    assert type(module).__name__ == "Masked" and options == {"threads": True}
    assert [a.shape for a in args] == [(4, 3)] and list(kwargs) == ["mask"]
    # Dim 0 of every tensor input, one dimension for all; what torch.export takes.
    assert list(dynamic_shapes) == ["x", "mask"]
    assert dynamic_shapes["x"][0] is dynamic_shapes["mask"][0]
    exported = torch.export.export(module, args, kwargs, dynamic_shapes=dynamic_shapes)
    assert len(exported.range_constraints) == 1

    fake_api.clear()
    assert cli.main(["compile", f"{model}:single_arg", "--out", str(out)]) == 0
    (_, _, args, kwargs, dynamic_shapes, options), _ = fake_api
    assert len(args) == 1 and kwargs is None and dynamic_shapes is None
    assert options == {"threads": False}


@pytest.mark.parametrize("spec, message", [
    ("{model}:wrong", "must return (model, example_args)"),
    ("{model}:missing", "has no function missing"),
    ("{model}", "expected MODEL.py:FACTORY"),
    ("{dir}/nothing.py:f", "no such file"),
])
def test_compile_usage_errors(tmp_path, fake_api, capsys, spec, message):
    pytest.importorskip("torch")
    model = tmp_path / "cli_model.py"
    model.write_text(MODEL)
    spec = spec.format(model=model, dir=tmp_path)
    assert cli.main(["compile", spec, "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not fake_api
