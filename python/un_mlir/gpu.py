"""The kernel objects that un-cuda-pipeline embeds in `gpu.binary` ops.

    python3 -m un_mlir.gpu ptx LOWERED.mlir [-o OUT.ptx]

writes the PTX of a module lowered with `format=isa` (the `assembly = "..."`
string of its `gpu.#object`), for ptxas or FileCheck.

Internal helper of the package, tests and benchmarks, not public API
(docs/api.md).
"""
import argparse
import re
import sys

_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _unescape(s):
    """MLIR string literal -> bytes (\\XX hex escapes, \\\\ and \\")."""
    out = bytearray()
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            if nxt in "\\\"":
                out.append(ord(nxt))
                i += 2
                continue
            if nxt == "n":
                out.append(10)
                i += 2
                continue
            if nxt == "t":
                out.append(9)
                i += 2
                continue
            out.append(int(s[i + 1:i + 3], 16))
            i += 3
            continue
        out += ch.encode()
        i += 1
    return bytes(out)


def objects(mlir_text):
    """[(binary name, target attribute text, payload bytes)] of every gpu.binary."""
    found = []
    for line in mlir_text.splitlines():
        line = line.strip()
        if not line.startswith("gpu.binary"):
            continue
        name = line.split()[1]
        target = re.search(r"#nvvm\.target<[^>]*>", line)
        literals = _STRING.findall(line)
        payload = max(literals, key=len) if literals else ""
        found.append((name, target.group(0) if target else "", _unescape(payload)))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["ptx"])
    parser.add_argument("input")
    parser.add_argument("-o", "--output", default="-")
    parser.add_argument("--binary", default=None,
                        help="only the gpu.binary of this name (e.g. un_kernels: "
                             "the generic path puts each of its kernels in its own)")
    args = parser.parse_args(argv)
    with open(args.input) as f:
        found = objects(f.read())
    if args.binary is not None:
        found = [o for o in found if o[0].lstrip("@") == args.binary.lstrip("@")]
    if not found:
        sys.exit(f"{args.input}: no gpu.binary")
    data = b"".join(payload for _, _, payload in found)
    if args.output == "-":
        sys.stdout.buffer.write(data)
    else:
        with open(args.output, "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
