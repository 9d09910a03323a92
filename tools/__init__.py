"""Repository tools; `tools.export` is the Python ONNX exporter (see tools/export/README.md)."""
