"""CPU benchmark of whole third-party models through the public API, f32:
`un_mlir.compile` of the model with its LayerNorms converted to UnifiedNorm
(folded away) against the same weights with LayerNorm in PyTorch eager,
in interleaved rounds of one run, one thread, thread CPU time.

Models (random weights, nothing downloaded):
  vit_tiny     timm vit_tiny_patch16_224, depth 12, 1x3x224x224

The UN model is the LN model converted with `convert_layernorm` (weights
copied), its running variances set to those of a trained model (the
squared activations the LayerNorms see, per channel, on the example
input), then compiled once (the stages and their times are printed).
Its output is checked against PyTorch running the UN model before timing.

Usage: python3 bench/cpu/bench_compile_api.py [--rounds N] [--model vit_tiny]
"""
import argparse
import copy
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "python"))

import torch  # noqa: E402

import un_mlir  # noqa: E402
from common import cpu_description, interleaved, summary  # noqa: E402
from un_mlir.torch import UnifiedNorm, convert_layernorm  # noqa: E402


def vit_tiny():
    import timm

    model = timm.create_model("vit_tiny_patch16_224", pretrained=False)
    return model.eval(), torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))


MODELS = {"vit_tiny": vit_tiny}


def calibrated_un_model(ln_model, x):
    """The LN model with UnifiedNorm, running variances from the example."""
    seen = {}
    hooks = [m.register_forward_hook(lambda m, i, o, name=name: seen.__setitem__(
        name, i[0].detach().float().square().flatten(0, -2).mean(0)))
        for name, m in ln_model.named_modules() if isinstance(m, torch.nn.LayerNorm)]
    with torch.no_grad():
        ln_model(x)
    for h in hooks:
        h.remove()
    un_model = copy.deepcopy(ln_model)
    convert_layernorm(un_model)
    for name, m in un_model.named_modules():
        if isinstance(m, UnifiedNorm):
            m.running_var.copy_(seen[name])
    return un_model.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--model", default="vit_tiny", choices=sorted(MODELS))
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(cpu_description())
    print(f"torch {torch.__version__}; 1 thread, thread CPU time, {args.rounds} interleaved "
          f"rounds of {args.reps} calls; ms (min, median)")
    ln_model, x = MODELS[args.model]()
    un_model = calibrated_un_model(ln_model, x)
    start = time.process_time()
    compiled = un_mlir.compile(un_model, (x,), progress=True)
    print(f"un_mlir.compile: {time.process_time() - start:.1f} s CPU in this process "
          "(plus its child processes)")
    print(compiled.report)
    with torch.no_grad():
        want = un_model(x)
    got = compiled(x)
    error = float((got - want).abs().max() / want.abs().max())
    if error > 1e-4:
        raise SystemExit(f"un-mlir output differs from PyTorch (UN): {error:.2e}")

    def eager():
        with torch.inference_mode():
            ln_model(x)

    contenders = {"un-mlir UN-folded": lambda: compiled(x), "PyTorch eager LN": eager}
    times = summary(interleaved(contenders, args.rounds, args.reps))
    base = times["PyTorch eager LN"][0]
    for name, (low, median) in times.items():
        print(f"{name:>20s}  {low:8.2f}  {median:8.2f}  {low / base:.3f}x eager")


if __name__ == "__main__":
    main()
