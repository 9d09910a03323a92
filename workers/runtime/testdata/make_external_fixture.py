"""Writes external/image_encoder.onnx + external/image_encoder.onnx_data: the fixture bundle's image
encoder with its weights in an external data file, to test external_data loading (ort.test.ts).

Run from the repository root with `onnx` installed:
    python workers/runtime/testdata/make_external_fixture.py
"""
import os

import onnx

os.makedirs("workers/runtime/testdata/external", exist_ok=True)
model = onnx.load("public/models/tiny-kandinsky-2-2/image_encoder.onnx")
onnx.save_model(
    model,
    "workers/runtime/testdata/external/image_encoder.onnx",
    save_as_external_data=True,
    all_tensors_to_one_file=True,
    location="image_encoder.onnx_data",
    size_threshold=0,
)
