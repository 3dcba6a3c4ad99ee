"""PyTorch integration: the `UnifiedNorm` module and `convert_layernorm`.
Models are compiled with `un_mlir.compile` (torch.export, then torch-mlir)."""
from .module import (ConversionReport, UnifiedNorm, convert_layernorm,  # noqa: F401
                     convert_sync_unified_norm)
