"""un_mlir.compile on real models nobody here wrote: Hugging Face BERT,
ViT, GPT-2 (SDPA attention) and Llama (RMSNorm), timm's vit_tiny and
torchvision's VisionTransformer, small configs with random weights.

Each model gets its normalizations converted to UnifiedNorm, three training
steps in PyTorch, then is compiled in eval mode with a dynamic batch size;
the compiled model must equal PyTorch at batch 2 (the example), 1 and 4,
every UnifiedNorm must be raised to an `un` op (and any left unfolded must
say why), and the saved artifact, loaded in a fresh process, must give the
same numbers.
"""
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_mlir")
import torch.utils._pytree as pytree  # noqa: E402
from torch.export import Dim  # noqa: E402

import un_mlir  # noqa: E402
from un_mlir.torch import UnifiedNorm, convert_layernorm  # noqa: E402

PYTHON_DIR = pathlib.Path(__file__).resolve().parents[2] / "python"
RTOL = 1e-4


def hf_bert(batch):
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(vocab_size=128, hidden_size=64, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=128,
                        max_position_embeddings=64, num_labels=3)
    g = torch.Generator().manual_seed(batch)
    ids = torch.randint(0, 128, (batch, 16), generator=g)
    mask = torch.ones(batch, 16, dtype=torch.long)
    mask[0, 12:] = 0  # padding in the first sequence
    return BertForSequenceClassification(config), (), {"input_ids": ids, "attention_mask": mask}


def hf_vit(batch):
    from transformers import ViTConfig, ViTForImageClassification

    config = ViTConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                       intermediate_size=128, image_size=32, patch_size=8, num_labels=5)
    g = torch.Generator().manual_seed(batch)
    return ViTForImageClassification(config), (torch.randn(batch, 3, 32, 32, generator=g),), {}


def hf_gpt2(batch):
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(vocab_size=128, n_embd=64, n_layer=2, n_head=4, n_positions=64,
                        bos_token_id=0, eos_token_id=0, attn_implementation="sdpa")
    g = torch.Generator().manual_seed(batch)
    return GPT2LMHeadModel(config), (torch.randint(0, 128, (batch, 16), generator=g),), {}


def hf_llama(batch):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=128, hidden_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, intermediate_size=128,
                         max_position_embeddings=64, bos_token_id=0, eos_token_id=0)
    g = torch.Generator().manual_seed(batch)
    return LlamaForCausalLM(config), (torch.randint(0, 128, (batch, 16), generator=g),), {}


def timm_vit_tiny(batch):
    import timm

    g = torch.Generator().manual_seed(batch)
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, depth=2)
    return model, (torch.randn(batch, 3, 224, 224, generator=g),), {}


def torchvision_vit(batch):
    from torchvision.models import VisionTransformer

    model = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4,
                              hidden_dim=64, mlp_dim=128, num_classes=7)
    torch.nn.init.normal_(model.heads.head.weight, std=0.02)  # zeros by default
    g = torch.Generator().manual_seed(batch)
    return model, (torch.randn(batch, 3, 32, 32, generator=g),), {}


MODELS = {"hf_bert": hf_bert, "hf_vit": hf_vit, "hf_gpt2": hf_gpt2, "hf_llama": hf_llama,
          "timm_vit_tiny": timm_vit_tiny, "torchvision_vit": torchvision_vit}


def dynamic_batch(args, kwargs):
    batch = Dim("batch", min=1, max=64)
    if kwargs:
        return {name: {0: batch} for name in kwargs}
    return tuple({0: batch} for _ in args)


def train_three_steps(model, args, kwargs):
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    for _ in range(3):
        optimizer.zero_grad()
        outputs = [o for o in pytree.tree_leaves(model(*args, **kwargs))
                   if isinstance(o, torch.Tensor) and o.is_floating_point()]
        loss = sum(o.square().mean() for o in outputs)
        loss.backward()
        optimizer.step()
    model.eval()


def inputs_at(name, batch):
    _, args, kwargs = MODELS[name](batch)
    return args, kwargs


def max_relative_error(got, want):
    got_leaves, want_leaves = pytree.tree_leaves(got), pytree.tree_leaves(want)
    assert len(got_leaves) == len(want_leaves)
    errors = []
    for g, w in zip(got_leaves, want_leaves):
        assert g.shape == w.shape and g.dtype == w.dtype
        scale = float(w.abs().max())
        assert scale > 0
        errors.append(float((g - w).abs().max()) / scale)
    return max(errors)


@pytest.mark.parametrize("name", MODELS)
def test_model(name, tmp_path):
    torch.manual_seed(0)
    model, args, kwargs = MODELS[name](2)
    report = convert_layernorm(model, rmsnorm=True)
    norms = [m for m in model.modules() if isinstance(m, UnifiedNorm)]
    assert norms and len(report.swapped) == len(norms)
    train_three_steps(model, args, kwargs)
    assert all(int(n.t) == 3 for n in norms)

    compiled = un_mlir.compile(model, args, kwargs, dynamic_shapes=dynamic_batch(args, kwargs))
    config = getattr(model, "config", None)
    if getattr(config, "use_cache", False):
        config.use_cache = False  # PyTorch too: the compiled forward has no KV cache

    # Every UnifiedNorm became an un op; those left unfolded say why.
    fold = compiled.report
    assert fold.raised == len(norms), str(fold)
    assert not any("per-token" in r for r in fold.remarks), str(fold)
    assert len(fold.remarks) >= fold.unfolded, str(fold)

    for batch in (2, 1, 4):
        a, k = inputs_at(name, batch)
        with torch.no_grad():
            want = model(*a, **k)
        got = compiled(*a, **k)
        assert type(got) is type(want)
        assert max_relative_error(got, want) <= RTOL, f"batch {batch}"

    # The artifact, loaded in a fresh process (no torch: flat numpy arrays;
    # with torch: the model's own result type).
    artifact = compiled.save(tmp_path / "model")
    # Weights are constants, prepared at compile time: no per-call preparation.
    symbols = subprocess.run(["nm", "-D", "--defined-only", str(artifact / "model.so")],
                             capture_output=True, text=True, check=True).stdout
    assert "prepare_weights" not in symbols
    a, k = inputs_at(name, 4)
    flat = [t.numpy() for t in pytree.tree_leaves((a, k))]
    with torch.no_grad():
        want = [t.numpy() for t in pytree.tree_leaves(model(*a, **k))]
    for i, x in enumerate(flat):
        np.save(tmp_path / f"in{i}.npy", x)
    for i, w in enumerate(want):
        np.save(tmp_path / f"want{i}.npy", w)
    script = textwrap.dedent(f"""
        import sys, numpy as np, un_mlir
        d = {str(tmp_path)!r}
        cm = un_mlir.load({str(artifact)!r})
        inputs = [np.load(f"{{d}}/in{{i}}.npy") for i in range({len(flat)})]
        got = cm.run(*inputs)
        assert "torch" not in sys.modules
        for i, g in enumerate(got):
            w = np.load(f"{{d}}/want{{i}}.npy")
            err = np.abs(g - w).max() / np.abs(w).max()
            assert err <= {RTOL}, (i, err)
        import torch
        keyed = {json.dumps(list(k))}
        n = len(inputs) - len(keyed)
        out = cm(*[torch.from_numpy(x) for x in inputs[:n]],
                 **{{key: torch.from_numpy(x) for key, x in zip(keyed, inputs[n:])}})
        print(type(out).__name__)
    """)
    env = {key: v for key, v in os.environ.items() if key != "UN_BUILD_DIR"}
    env["PYTHONPATH"] = str(PYTHON_DIR)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with torch.no_grad():
        assert proc.stdout.strip() == type(model(*a, **k)).__name__


def test_inputs_checked(tmp_path):
    torch.manual_seed(0)
    model, args, kwargs = hf_bert(2)
    compiled = un_mlir.compile(model.eval(), args, kwargs,
                               dynamic_shapes=dynamic_batch(args, kwargs))
    ids, mask = kwargs["input_ids"], kwargs["attention_mask"]
    with pytest.raises(un_mlir.InputError, match="dynamic size"):
        compiled(input_ids=ids, attention_mask=mask[:1])
    with pytest.raises(un_mlir.InputError, match="dim 1 must be 16"):
        compiled(input_ids=ids[:, :8], attention_mask=mask[:, :8])
    with pytest.raises(un_mlir.InputError, match="dtype int32"):
        compiled(input_ids=ids.int(), attention_mask=mask)
    with pytest.raises(un_mlir.InputError, match="missing"):
        compiled(input_ids=ids)
    with pytest.raises(un_mlir.InputError, match=r"must be in \[1, 64\]"):
        big = ids.repeat(33, 1)
        compiled(input_ids=big, attention_mask=mask.repeat(33, 1))
    # A non-contiguous input is copied, not misread.
    wide = torch.stack([ids, ids], dim=-1)[..., 0]
    assert not wide.is_contiguous()
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).logits
    got = compiled(input_ids=wide, attention_mask=mask).logits
    assert max_relative_error(got, want) <= RTOL


C_PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include "model.h"

int main(void) {
  static float x[3][16];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 16; ++j)
      x[i][j] = (float)(i * 16 + j) / 48.0f - 0.5f;
  struct un_input0 input = {&x[0][0], &x[0][0], 0, {3, 16}, {16, 1}};
  struct un_results results;
  _mlir_ciface_forward(&results, &input);
  struct un_result0 *y = &results.r0;
  for (int i = 0; i < y->sizes[0]; ++i)
    for (int j = 0; j < y->sizes[1]; ++j)
      printf("%.9g\n", y->aligned[y->offset + i * y->strides[0] + j * y->strides[1]]);
  free(y->allocated);
  return 0;
}
"""


def test_c_program(tmp_path):
    """A C program includes the saved model.h, links model.so and runs it."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), UnifiedNorm(32), torch.nn.GELU(),
                                torch.nn.Linear(32, 4)).eval()
    with torch.no_grad():
        model[1].running_var.uniform_(0.5, 2.0)
    x = torch.arange(48, dtype=torch.float32).reshape(3, 16) / 48.0 - 0.5
    compiled = un_mlir.compile(model, (x,), dynamic_shapes=({0: Dim("batch", min=1)},))
    artifact = compiled.save(tmp_path / "model")
    (tmp_path / "main.c").write_text(C_PROGRAM)
    subprocess.run(["cc", "-std=c11", "-Wall", "-Werror", "-I", str(artifact), "-o",
                    str(tmp_path / "main"), str(tmp_path / "main.c"), str(artifact / "model.so"),
                    f"-Wl,-rpath,{artifact}"], check=True)
    out = subprocess.run([str(tmp_path / "main")], capture_output=True, text=True, check=True)
    got = torch.tensor([float(v) for v in out.stdout.split()]).reshape(3, 4)
    with torch.no_grad():
        want = model(x)
    assert float((got - want).abs().max() / want.abs().max()) <= RTOL


def test_jit_of_torch_mlir_module_does_not_crash():
    """Regression: the JIT marks its arguments `bufferization.writable =
    false`, and weight preparation hoisted out of such a function crashed
    un-opt and the Python process (SIGSEGV). Run in a child process, so a
    crash is a failure, not the end of the test session."""
    script = textwrap.dedent("""
        import numpy as np, torch
        from un_mlir import compiler
        from un_mlir.torch import UnifiedNorm
        from un_mlir.torch_mlir_import import import_model
        torch.manual_seed(0)
        model = torch.nn.Sequential(UnifiedNorm(64), torch.nn.Linear(64, 64)).eval()
        x = torch.randn(8, 64)
        text = import_model(model, x)
        exe = compiler.compile(text, pipeline="un-raise-norms,un-inference-pipeline,"
                                              "un-cpu-pipeline")
        got = exe.main(x.numpy())
        with torch.no_grad():
            want = model(x).numpy()
        assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max(), "numbers differ"
        print("ok")
    """)
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]
