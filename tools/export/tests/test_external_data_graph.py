"""tools/gpu/external_data_graph.py: the external-data probe's graph is what the probe assumes (y = x, one file per weight)."""
import json

import numpy as np
import onnxruntime as ort

from tools.gpu.external_data_graph import main


def test_graph_is_identity_with_one_external_file_per_weight(tmp_path):
    main(8, 3, tmp_path)
    meta = json.loads((tmp_path / "graph.json").read_text())
    assert meta["external"] == [{"path": f"w{i}.bin", "bytes": 4 * 8 * 8} for i in range(3)]
    for e in meta["external"]:
        assert (tmp_path / e["path"]).stat().st_size == e["bytes"]
    # The graph file holds no weights: they are all external.
    assert (tmp_path / "graph.onnx").stat().st_size < 1024
    session = ort.InferenceSession(str(tmp_path / "graph.onnx"), providers=["CPUExecutionProvider"])
    x = np.ones((2, 8), dtype=np.float32)
    (y,) = session.run(["image"], {"latents": x})
    np.testing.assert_allclose(y, x, rtol=1e-6)
