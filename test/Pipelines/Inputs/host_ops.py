"""Prints the ops of `func.func @NAME` (MLIR text on stdin) that run on the
host: every line of its body except those inside gpu.launch regions
(a launch is printed as one `gpu.launch` line)."""
import sys

name = sys.argv[1]
text = sys.stdin.read()
lines = text[text.index(f"func.func @{name}("):].splitlines()[1:]
inside = None
for line in lines:
    indent = len(line) - len(line.lstrip())
    if inside is not None:
        if indent == inside and line.strip().startswith("}"):
            inside = None
        continue
    if line.strip() == "}" and indent <= 2:
        break
    if "gpu.launch " in line:
        inside = indent
        print(" " * indent + "gpu.launch")
        continue
    print(line)
