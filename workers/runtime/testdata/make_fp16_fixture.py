"""Writes image_encoder_fp16.onnx: the fixture bundle's image encoder converted to float16 weights
*and* float16 inputs/outputs, to test the runtime's float16 boundary (workers/runtime/ort.test.ts).

Run from the repository root with `onnx` and `onnxconverter-common` installed:
    python workers/runtime/testdata/make_fp16_fixture.py
"""
import onnx
from onnxconverter_common import float16

model = onnx.load("public/models/tiny-kandinsky-2-2/image_encoder.onnx")
fp16 = float16.convert_float_to_float16(model, keep_io_types=False)
# The converter retypes Cast outputs to float16 but leaves `to=FLOAT` on the node; make them agree.
for node in fp16.graph.node:
    if node.op_type == "Cast":
        for attr in node.attribute:
            if attr.name == "to" and attr.i == onnx.TensorProto.FLOAT:
                attr.i = onnx.TensorProto.FLOAT16
onnx.checker.check_model(fp16)
onnx.save(fp16, "workers/runtime/testdata/image_encoder_fp16.onnx")
for v in list(fp16.graph.input) + list(fp16.graph.output):
    print(v.name, onnx.TensorProto.DataType.Name(v.type.tensor_type.elem_type))
