"""Writes image_encoder_fp16_compute.onnx: the fixture bundle's image encoder as the exporter writes an fp16
variant (tools/export/precision.py `to_fp16`): float16 weights and compute, float32 inputs and outputs. Its
manifest entry keeps `dtype` float32 and says `compute_dtype: "float16"`, so only that field tells the runtime
the graph needs shader-f16 on WebGPU (workers/runtime/ort.test.ts).

Run from the repository root with the exporter's requirements (tools/export/requirements.txt):
    PYTHONPATH=. .venv/bin/python workers/runtime/testdata/make_fp16_compute_fixture.py
"""
import onnx

from tools.export.precision import to_fp16

model = onnx.load("public/models/tiny-kandinsky-2-2/image_encoder.onnx")
fp16 = to_fp16(model)
# No onnx.checker: the converter leaves its input casts after their readers (not topologically sorted), which
# onnxruntime accepts; this is byte for byte the graph the exporter ships.
onnx.save(fp16, "workers/runtime/testdata/image_encoder_fp16_compute.onnx")
for v in list(fp16.graph.input) + list(fp16.graph.output):
    print(v.name, onnx.TensorProto.DataType.Name(v.type.tensor_type.elem_type))
print(sum(1 for t in fp16.graph.initializer if t.data_type == onnx.TensorProto.FLOAT16), "float16 initializers")
