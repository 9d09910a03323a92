"""Built-in verification: each exported stage in onnxruntime (CPU) against PyTorch fp32.

Tolerance: max |onnx - torch| <= TOLERANCE[variant] * max(1, max |torch|), per output.
The fp32 figure is SPEC §4's wasm embedding tolerance; the others were measured on random
weights (tools/export/README.md) and catch a broken graph, not a quality loss.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .stages import Stage, sample_inputs

TOLERANCE = {
    ("fp32", "none"): 1e-4,
    ("fp16", "none"): 2e-2,
    ("fp32", "int8"): 1e-1, ("fp16", "int8"): 1e-1,
    ("fp32", "int4"): 5e-1, ("fp16", "int4"): 5e-1,
}
# (batch, pixel side): two shapes so a frozen dynamic axis fails.
SHAPES = ((2, 64), (1, 128))


def verify_stage(module: torch.nn.Module, stage: Stage, onnx_path: Path, dtype: str, quant: str,
                 shapes=SHAPES) -> tuple[float, float, bool]:
    """Returns (worst error / scale, tolerance, passed) and prints one line per output and shape."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    tol = TOLERANCE[(dtype, quant)]
    worst = 0.0
    for i, (batch, side) in enumerate(shapes):
        inputs = sample_inputs(stage, batch=batch, side=side, seed=100 + i)
        with torch.no_grad():
            ref = module(*(inputs[k] for k in stage.inputs))
        ref = ref if isinstance(ref, tuple) else (ref,)
        got = sess.run(list(stage.outputs), {k: v.numpy() for k, v in inputs.items()})
        for name, r, g in zip(stage.outputs, ref, got):
            r = r.float().numpy()
            if r.shape != g.shape:
                print(f"  verify {stage.name}.{name} batch={batch} side={side}: shape {g.shape} != torch {r.shape}")
                return float("inf"), tol, False
            err = float(np.abs(g.astype(np.float32) - r).max())
            scale = max(1.0, float(np.abs(r).max()))
            worst = max(worst, err / scale)
            print(f"  verify {stage.name}.{name} batch={batch} side={side}: max_abs_err {err:.3e} "
                  f"(max|ref| {scale:.3g}, tolerance {tol * scale:.3e})", flush=True)
    return worst, tol, worst <= tol
