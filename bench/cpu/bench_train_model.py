"""CPU benchmark of training with UN: whole training steps of small models,
and the normalization layer alone, one thread, f32.

Models (random weights, built from configs):
  vit    timm VisionTransformer, ViT-S dims (384 wide, 6 heads), 4 blocks,
         batch 8 x 224 x 224 (8 x 197 tokens)
  bert   transformers BertForSequenceClassification, BERT-base dims (768
         wide, 12 heads, MLP 3072), 4 layers, batch 8 x 128 tokens

Contenders of a training step (zero_grad, forward, cross-entropy, backward,
SGD step), interleaved in one run:
  LN            the model as built, with nn.LayerNorm
  UN compiled   the model after convert_layernorm, UnifiedNorm(kernels=
                "compiled"): un-mlir's kernels through the un_mlir:: ops
  UN eager      the same with kernels="eager" (PyTorch ops)
The layer alone (forward + backward of one norm at the model's activation
shape): nn.LayerNorm, UnifiedNorm compiled, UnifiedNorm eager.

Before timing, one step of UN compiled and UN eager from the same state
must agree (loss, every gradient, every UN state buffer; relative 1e-4),
and `torch._dynamo.explain` counts the graph breaks of torch.compile on the
LN and the UN-compiled model (no break may come from the normalization).

Usage: python3 bench/cpu/bench_train_model.py [--rounds N] [--models vit,bert]
"""
import argparse
import copy
import os
import pathlib
import sys

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import torch  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from common import cpu_description, interleaved, summary  # noqa: E402
from un_mlir.torch import UnifiedNorm, convert_layernorm  # noqa: E402

# Past warm-up and window, with filtration on: every branch of the
# statistics update is live in the timed steps.
UN_ARGS = dict(window=4, warmup_iters=4, outlier_filtration=True, r_warmup=4)
WARM_STEPS = 6


def vit():
    import timm
    model = timm.models.vision_transformer.VisionTransformer(
        img_size=224, patch_size=16, embed_dim=384, depth=4, num_heads=6, num_classes=10)
    x = torch.randn(8, 3, 224, 224)
    return model, (x,), {}, torch.randint(0, 10, (8,)), (8, 197, 384)


def bert():
    from transformers import BertConfig, BertForSequenceClassification
    config = BertConfig(hidden_size=768, num_hidden_layers=4, num_attention_heads=12,
                        intermediate_size=3072, num_labels=10, attn_implementation="sdpa")
    model = BertForSequenceClassification(config)
    ids = torch.randint(0, config.vocab_size, (8, 128))
    return model, (), {"input_ids": ids}, torch.randint(0, 10, (8,)), (8, 128, 768)


MODELS = {"vit": vit, "bert": bert}


def logits(out):
    return out if isinstance(out, torch.Tensor) else out.logits


def trainer(model, args, kwargs, labels):
    """One training step of `model` per call."""
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(logits(model(*args, **kwargs)), labels)
        loss.backward()
        opt.step()
        return loss
    return step


def un_model(model, kernels):
    m = copy.deepcopy(model)
    report = convert_layernorm(m, kernels=kernels, **UN_ARGS)
    assert len(report) > 0, "no LayerNorm was converted"
    return m


def check_same_step(compiled, eager, args, kwargs, labels):
    """One step of each from equal states agrees (loss, gradients, state)."""
    results = []
    for m in (compiled, eager):
        torch.manual_seed(2)  # the same dropout masks
        m.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(logits(m(*args, **kwargs)), labels)
        loss.backward()
        grads = {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}
        state = {n: b.clone() for n, b in m.named_buffers()}
        results.append((loss.detach(), grads, state))
    (la, ga, sa), (lb, gb, sb) = results
    torch.testing.assert_close(la, lb, rtol=1e-4, atol=1e-5)
    for name in ga:
        torch.testing.assert_close(ga[name], gb[name], rtol=1e-4, atol=1e-5, msg=name)
    for name in sa:
        if sa[name].is_floating_point():
            torch.testing.assert_close(sa[name], sb[name], rtol=1e-4, atol=1e-6, msg=name)
        else:
            assert torch.equal(sa[name], sb[name]), name


def graph_breaks(model, args, kwargs):
    import torch._dynamo
    torch._dynamo.reset()
    explanation = torch._dynamo.explain(model)(*args, **kwargs)
    return explanation.graph_break_count, [str(b.reason) for b in explanation.break_reasons]


def layer_step(norm, shape):
    x = torch.randn(*shape, requires_grad=True)
    gy = torch.randn(*shape)

    def step():
        x.grad = None
        norm(x).backward(gy)
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--models", default="vit,bert")
    opts = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print(f"CPU: {cpu_description()}")
    print(f"torch {torch.__version__}, one thread, f32, thread CPU time; UN {UN_ARGS}")
    for name in opts.models.split(","):
        model, args, kwargs, labels, shape = MODELS[name]()
        model.train()
        compiled, eager = un_model(model, "compiled"), un_model(model, "eager")
        # Equal states past warm-up: run both through the same steps.
        for m in (compiled, eager):
            torch.manual_seed(1)
            step = trainer(m, args, kwargs, labels)
            for _ in range(WARM_STEPS):
                step()
        check_same_step(compiled, eager, args, kwargs, labels)
        breaks = {}
        for label, m in (("LN", model), ("UN compiled", compiled)):
            count, reasons = graph_breaks(copy.deepcopy(m), args, kwargs)
            breaks[label] = count
            norm_reasons = [r for r in reasons if "un_mlir" in r or "UnifiedNorm" in r]
            assert not norm_reasons, f"graph break at the norm: {norm_reasons}"
        print(f"\n{name}: batch {shape[0]}, {shape[1]} tokens x {shape[2]}; torch.compile "
              f"graph breaks: LN {breaks['LN']}, UN compiled {breaks['UN compiled']} "
              "(none at the norm)")
        steps = {"LN": trainer(model, args, kwargs, labels),
                 "UN compiled": trainer(compiled, args, kwargs, labels),
                 "UN eager": trainer(eager, args, kwargs, labels)}
        s = summary(interleaved(steps, opts.rounds, reps=2))
        base = s["LN"][0]
        print("training step          min (ms)   median    / LN (min)")
        for label, (lo, med) in s.items():
            print(f"  {label:<20s} {lo:9.2f} {med:9.2f}   {lo / base:6.3f}x")
        C = shape[-1]
        layers = {"LN": layer_step(torch.nn.LayerNorm(C), shape),
                  "UN compiled": layer_step(UnifiedNorm(C, kernels="compiled", **UN_ARGS),
                                            shape),
                  "UN eager": layer_step(UnifiedNorm(C, kernels="eager", **UN_ARGS), shape)}
        s = summary(interleaved(layers, opts.rounds, reps=10, warmup=WARM_STEPS))
        print(f"norm layer {shape} forward + backward   min (ms)   median   eager / this")
        for label, (lo, med) in s.items():
            print(f"  {label:<20s} {lo:9.3f} {med:9.3f}   {s['UN eager'][0] / lo:6.2f}x")


if __name__ == "__main__":
    main()
