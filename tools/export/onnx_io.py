"""Exporting a stage to ONNX and writing it as bundle files (inline or chunked external data)."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import onnx
import torch
from onnx import numpy_helper
from onnx.external_data_helper import _get_all_tensors, set_external_data, uses_external_data

from .stages import Stage, dynamic_axes

OPSET = 17
# Protobuf caps a model file at 2 GiB; the browser's fs/typed-array limits (SPEC §5) also bite at
# 2 GiB. Graphs whose weights exceed INLINE_LIMIT keep them in external files of CHUNK_BYTES at most.
INLINE_LIMIT = 2_000_000_000
CHUNK_BYTES = 1 << 30  # 1 GiB per external-data file
MIN_EXTERNAL_TENSOR = 1024  # smaller tensors stay inside the .onnx file
ALIGN = 4096


def export_stage(module: torch.nn.Module, stage: Stage, inputs: dict[str, torch.Tensor], work: Path) -> onnx.ModelProto:
    """Trace `module` with the TorchScript exporter (opset 17, dynamic axes) and load the result."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"{stage.name}.onnx"
    with torch.no_grad():
        torch.onnx.export(
            module, tuple(inputs[k] for k in stage.inputs), str(path),
            input_names=list(stage.inputs), output_names=list(stage.outputs),
            dynamic_axes=dynamic_axes(stage), opset_version=OPSET, do_constant_folding=True,
            dynamo=False,
        )
    model = onnx.load(str(path), load_external_data=True)
    _stamp_contract_shapes(model, stage)
    return model


def _stamp_contract_shapes(model: onnx.ModelProto, stage: Stage) -> None:
    """Graph I/O shapes exactly as the contract names them (the tracer invents names for
    derived axes, e.g. the 77 of last_hidden_state)."""
    for vi in list(model.graph.input) + list(model.graph.output):
        want = (stage.inputs | stage.outputs)[vi.name]
        dims = vi.type.tensor_type.shape.dim
        if len(dims) != len(want):
            raise ValueError(f"{stage.name}.{vi.name}: graph rank {len(dims)} != contract {want}")
        for d, w in zip(dims, want):
            if isinstance(w, str):
                d.dim_param = w
            else:
                d.dim_value = w


def tensor_bytes(model: onnx.ModelProto) -> int:
    """Bytes of all weights held by the graph (initializers and constant attributes)."""
    total = 0
    for t in _get_all_tensors(model):
        if t.HasField("raw_data"):
            total += len(t.raw_data)
        else:
            total += numpy_helper.to_array(t).nbytes
    return total


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            h.update(block)
    return h.hexdigest()


def file_entry(path: Path) -> dict:
    return {"bytes": path.stat().st_size, "sha256": _sha256(path)}


def save_model(model: onnx.ModelProto, out_dir: Path, stem: str) -> dict:
    """Write `<stem>.onnx` (and `<stem>.onnx.data<i>` chunks when weights exceed INLINE_LIMIT).

    Returns the manifest fields: file, bytes, sha256 and, if any, external_data.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{stem}.onnx"
    for old in out_dir.glob(f"{stem}.onnx.data*"):
        old.unlink()
    external: list[dict] = []
    if tensor_bytes(model) > INLINE_LIMIT:
        chunk_index, offset, handle = -1, 0, None
        try:
            for t in _get_all_tensors(model):
                if uses_external_data(t):
                    raise ValueError(f"tensor {t.name} still refers to external data; load it first")
                raw = t.raw_data if t.HasField("raw_data") else numpy_helper.to_array(t).tobytes()
                if len(raw) < MIN_EXTERNAL_TENSOR:
                    continue
                if len(raw) > CHUNK_BYTES:
                    raise ValueError(f"tensor {t.name} has {len(raw)} bytes, more than one external file may hold")
                if handle is None or offset + len(raw) > CHUNK_BYTES:
                    if handle is not None:
                        handle.close()
                    chunk_index, offset = chunk_index + 1, 0
                    name = f"{stem}.onnx.data{chunk_index}"
                    handle = open(out_dir / name, "wb")
                    external.append({"path": name})
                pad = (-offset) % ALIGN
                handle.write(b"\0" * pad)
                offset += pad
                handle.write(raw)
                # Clear typed fields, then point at the chunk.
                for field in ("float_data", "int32_data", "int64_data", "double_data", "uint64_data", "string_data"):
                    t.ClearField(field)
                set_external_data(t, location=external[-1]["path"], offset=offset, length=len(raw))
                t.ClearField("raw_data")
                t.data_location = onnx.TensorProto.EXTERNAL
                offset += len(raw)
        finally:
            if handle is not None:
                handle.close()
    onnx.save_model(model, str(onnx_path))
    entry = {"file": onnx_path.name, **file_entry(onnx_path)}
    if external:
        entry["external_data"] = [{"path": e["path"], **file_entry(out_dir / e["path"])} for e in external]
    return entry


def temp_dir(prefix: str) -> tempfile.TemporaryDirectory:
    base = os.environ.get("KANDINSKY_EXPORT_TMP")
    return tempfile.TemporaryDirectory(prefix=prefix, dir=base)
