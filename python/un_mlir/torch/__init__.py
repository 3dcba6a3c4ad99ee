"""PyTorch integration: the `UnifiedNorm` module, `convert_layernorm`, and
`export` (PyTorch model -> MLIR with un ops)."""
from .module import ConversionReport, UnifiedNorm, convert_layernorm  # noqa: F401
from .export import ExportError, Exported, export  # noqa: F401,E402
