"""The worked example of docs/python.md runs and checks itself."""
import os
import subprocess
import sys

from conftest import ROOT, require_native

require_native()


def test_tiny_model_example_runs():
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    proc = subprocess.run([sys.executable, str(ROOT / "examples/python/tiny_un_model.py")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "predictions agree: True" in proc.stdout
    assert "1 normalization(s) raised to un ops, 1 folded into linear layers" in proc.stdout
