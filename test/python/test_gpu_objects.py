"""un_mlir.gpu: the kernel objects embedded in gpu.binary ops."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

from un_mlir import gpu  # noqa: E402

LOWERED = r'''module attributes {gpu.container_module} {
  llvm.func @f() {
    llvm.return
  }
  gpu.binary @un_kernels  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">, properties = {O = 3 : i32}, assembly = "//\0A.version 8.0\0A.target sm_90\0A\09.visible .entry k(\22x\5C\22)"]
}
'''


def test_objects_unescapes_the_payload():
    (name, target, payload), = gpu.objects(LOWERED)
    assert name == "@un_kernels"
    assert 'chip = "sm_90"' in target
    assert payload == b'//\n.version 8.0\n.target sm_90\n\t.visible .entry k("x\\")'


def test_cli_writes_the_ptx(tmp_path):
    src = tmp_path / "lowered.mlir"
    src.write_text(LOWERED)
    out = tmp_path / "k.ptx"
    subprocess.run([sys.executable, str(ROOT / "python" / "un_mlir" / "gpu.py"), "ptx",
                    str(src), "-o", str(out)], check=True)
    assert out.read_bytes().startswith(b"//\n.version 8.0\n")
