"""Collects what run.sh's stages wrote into WORK and writes RESULTS (JSON:
device, checks, every timing, errors, and a text summary); prints the
summary. run.sh calls it after every stage, so a run cut short still
leaves the results of the stages it finished.

    python3 summarize.py WORK RESULTS
"""
import json
import pathlib
import sys


def main(work, results):
    def lines(name):
        p = work / name
        out = []
        if p.exists():
            for line in p.read_text().splitlines():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def text(name):
        p = work / name
        return p.read_text() if p.exists() else ""

    bench, torch_rows = lines("bench.jsonl"), lines("torch.jsonl")
    torch_blocks = {r["block"]: r for r in lines("torch_block.jsonl")
                    if r.get("kind") == "torch_block"}
    torch_graphs = {r["block"]: r for r in lines("torch_block.jsonl")
                    if r.get("kind") == "torch_block_graph"}
    checks = [c for c in text("checks.txt").split("\n") if c]
    details = {p.stem: p.read_text()[-20000:] for p in sorted((work / "check").glob("*.result"))}
    logs = {p.stem: p.read_text()[-5000:] for p in sorted((work / "check").glob("*.log"))}
    summary = []
    passed = sum(c.startswith("PASS") for c in checks)
    failed = [c for c in checks if c.startswith("FAIL")]
    summary.append(f"checks: {passed} passed, {len(failed)} failed")
    summary.extend(f"  {c}" for c in failed)
    dev = [r for r in bench if r.get("kind") == "device"]
    if dev:
        summary.append(f"device: {dev[0]['name']} ({dev[0]['sms']} SMs)")
    for r in bench:
        if r.get("kind") == "error":
            summary.append(f"un_gpu_bench {r['config']}: failed (exit {r['exit']})")
    un = {(r["shape"], r["dtype"], r["op"]): r for r in bench if r.get("kind") == "un"}
    tl = {(r["shape"], r["dtype"], r["op"]): r for r in torch_rows
          if r.get("kind") == "torch_layernorm"}
    summary.append(f"{'shape':5} {'dtype':5} {'op':9} {'UN us':>8} {'UN GB/s':>8} "
                   f"{'of copy':>7} {'LN us':>8} {'LN GB/s':>8} {'UN/LN time':>10}")
    for key, r in sorted(un.items()):
        t = tl.get(key)
        summary.append(
            f"{key[0]:5} {key[1]:5} {key[2]:9} {r['us']:8.2f} {r['gbps']:8.0f} "
            f"{r['of_copy']:7.2f} "
            + (f"{t['us']:8.2f} {t['gbps']:8.0f} {r['us'] / t['us']:10.2f}" if t else ""))
    checks_by_block = {r["block"]: r for r in bench if r.get("kind") == "block_check"}
    graphs_by_block = {r["block"]: r for r in bench if r.get("kind") == "block_graph"}
    for r in bench:
        if r.get("kind") == "block":
            c = checks_by_block.get(r["block"])
            check = (f", max error {c['of_max']:.2g} of max |y| "
                     f"({'ok' if c['ok'] else 'WRONG'})") if c else ""
            # Against PyTorch at the same precision: f32 (TF32 off) for the
            # project's kernels and cuBLASLt f32, TF32 for cuBLASLt TF32,
            # bf16 for the bf16 block.
            key = r["block"].removesuffix("-cublaslt")
            precision = {"-tf32": " TF32", "-bf16": " bf16"}.get(key[key.rfind("-"):], "")
            ln = torch_blocks.get(key)
            versus = (f"; LayerNorm block (PyTorch eager{precision})"
                      f" {ln['us']:.1f} us, UN/LN time {r['us'] / ln['us']:.2f}") if ln else ""
            summary.append(f"UN-folded block {r['block']} {r['dims']}: {r['us']:.1f} us{check}"
                           f"{versus}")
            graph = graphs_by_block.get(r["block"])
            ln_graph = torch_graphs.get(key)
            if graph:
                summary.append(f"  as one CUDA graph: {graph['us']:.1f} us" + (
                    f"; LayerNorm block as a graph {ln_graph['us']:.1f} us, UN/LN time "
                    f"{graph['us'] / ln_graph['us']:.2f}" if ln_graph else ""))
    for r in bench:
        if r.get("kind") == "copy":
            summary.append(f"copy {r['bytes']} bytes: {r['us']:.2f} us, {r['gbps']:.0f} GB/s")
    doc = {"summary": summary, "checks": checks, "check_details": details, "check_logs": logs,
           "un_gpu_bench": bench, "torch_layernorm": torch_rows,
           "torch_block": list(torch_blocks.values()) + list(torch_graphs.values()),
           "nvidia_smi": text("nvidia-smi.txt"),
           "errors": {"bench": text("bench.err")[-5000:], "torch": text("torch.err")[-5000:],
                      "torch_block": text("torch_block.err")[-5000:]}}
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(doc, indent=1) + "\n")
    return summary


if __name__ == "__main__":
    summary = main(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]))
    print("\n".join(summary))
    print(f"results: {sys.argv[2]}")
