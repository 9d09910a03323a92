"""Kandinsky 2.2 diffusers checkpoints -> ONNX bundles (SPEC §2), golden cases (SPEC §4)."""
