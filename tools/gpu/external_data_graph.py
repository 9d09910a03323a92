"""Issue 9 item 4's probe graph: y = x · W1 · … · WK with N×N float32 weights W = 1/N everywhere (so y = x for
x = 1), each weight in its own external-data file. Read by tools/gpu/external-data-probe.ts.

    python tools/gpu/external_data_graph.py N K OUT_DIR   # e.g. 16000 5: 5 × 1.02 GB, more than 4 GiB
"""
import json
import sys
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper


def main(n: int, k: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    nodes, initializers, external = [], [], []
    previous = "latents"
    row = np.full((1, n), 1.0 / n, dtype=np.float32).tobytes()
    for i in range(k):
        name = f"w{i}"
        with open(out / f"{name}.bin", "wb") as f:  # row by row: never the whole weight in memory
            for _ in range(n):
                f.write(row)
        t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=[n, n], data_location=TensorProto.EXTERNAL)
        for key, value in (("location", f"{name}.bin"), ("offset", "0"), ("length", str(4 * n * n))):
            entry = t.external_data.add()
            entry.key, entry.value = key, value
        initializers.append(t)
        output = "image" if i == k - 1 else f"h{i}"
        nodes.append(helper.make_node("MatMul", [previous, name], [output]))
        previous = output
        external.append({"path": f"{name}.bin", "bytes": 4 * n * n})
    graph = helper.make_graph(
        nodes, "external-data-probe",
        [helper.make_tensor_value_info("latents", TensorProto.FLOAT, ["batch", "n"])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", "n"])], initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    (out / "graph.onnx").write_bytes(model.SerializeToString())
    (out / "graph.json").write_text(json.dumps({"N": n, "K": k, "external": external}))
    print(f"{k} weights, {k * 4 * n * n / 1e9:.2f} GB, in {out}")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
