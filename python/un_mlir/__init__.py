"""un-mlir Python package."""
