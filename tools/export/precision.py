"""Precision variants of an exported fp32 graph.

- fp16: onnxruntime's float16 converter with numerically sensitive ops kept in fp32
  (normalisations, softmax, exp/pow/sqrt, and the sinusoidal timestep embedding, whose
  arguments reach 999 where fp16 steps are 0.5 wide). Inputs and outputs stay float32.
- int8 / int4: weight-only. MatMul (and Gemm, rewritten as MatMul + Add) -> MatMulNBits
  (com.microsoft, bits 8 or 4, symmetric, block 32), which dequantizes on the fly and
  computes in the activations' dtype (fp32 unless combined with fp16). Conv weights,
  75% of the UNet, become int8 per output channel behind a DequantizeLinear; the first
  and last conv of a graph stay float. Embedding tables (Gather) stay float.
"""
from __future__ import annotations

from collections import deque

import numpy as np
import onnx
from onnx import helper, numpy_helper

# Kept in fp32 inside fp16 graphs (in addition to onnxruntime's default block list).
FP16_BLOCKED_OPS = (
    "LayerNormalization", "InstanceNormalization", "GroupNormalization", "Softmax", "ReduceMean",
    "ReduceSum", "Pow", "Sqrt", "Reciprocal", "Exp", "Sin", "Cos", "Range", "CumSum",
)
BLOCK_SIZE = 32
MIN_CONV_WEIGHTS = 4096


def _timestep_path(model: onnx.ModelProto) -> list[str]:
    """Nodes from the `timestep` input up to the sin/cos of the time embedding (inclusive)."""
    g = model.graph
    if not any(i.name == "timestep" for i in g.input):
        return []
    consumers: dict[str, list] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    names, seen, queue = [], set(), deque(["timestep"])
    while queue:
        t = queue.popleft()
        for n in consumers.get(t, []):
            if n.name in seen:
                continue
            seen.add(n.name)
            names.append(n.name)
            if n.op_type not in ("Sin", "Cos"):
                queue.extend(n.output)
    # Constants read by the path (the frequencies) must not be rounded to fp16 either.
    path_inputs = {i for n in g.node if n.name in seen for i in n.input}
    names += [n.name for n in g.node if n.op_type == "Constant" and n.output[0] in path_inputs]
    return names


def _name_nodes(model: onnx.ModelProto) -> None:
    for i, n in enumerate(model.graph.node):
        if not n.name:
            n.name = f"{n.op_type}_{i}"


def to_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """fp16 weights and compute, sensitive ops in fp32, float32 I/O."""
    from onnxruntime.transformers import float16

    _name_nodes(model)
    out = float16.convert_float_to_float16(
        model, keep_io_types=True, disable_shape_infer=not _fits_protobuf(model),
        op_block_list=list(float16.DEFAULT_OP_BLOCK_LIST) + list(FP16_BLOCKED_OPS),
        node_block_list=_timestep_path(model),
    )
    _drop_duplicate_casts(out)
    _bypass_fp16_round_trips(out)
    return out


def _bypass_fp16_round_trips(model: onnx.ModelProto) -> None:
    """The converter casts every blocked node's output to fp16 and back before the next blocked
    node; chains (the timestep path, norm internals) would lose precision at each hop. Feed
    Cast(to=float)'s consumers from the fp32 tensor before Cast(to=float16) instead."""
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    rename: dict[str, str] = {}
    drop = set()
    for n in g.node:
        if n.op_type != "Cast" or helper.get_attribute_value(n.attribute[0]) != onnx.TensorProto.FLOAT:
            continue
        p = producer.get(n.input[0])
        # Only casts the converter inserted (their input is float32 by construction); the
        # graph's own Cast nodes may read integers.
        inserted = p is not None and (p.name.endswith("_cast_to_fp16_node") or p.name.startswith("graph_input_cast"))
        if inserted and p.op_type == "Cast" and helper.get_attribute_value(p.attribute[0]) == onnx.TensorProto.FLOAT16:
            rename[n.output[0]] = p.input[0]
            drop.add(id(n))
    if not rename:
        return
    graph_outputs = {o.name for o in g.output}
    keep = []
    for n in g.node:
        if id(n) in drop and n.output[0] not in graph_outputs:
            continue
        for i, x in enumerate(n.input):
            if x in rename:
                n.input[i] = rename[x]
        keep.append(n)
    del g.node[:]
    g.node.extend(keep)
    # Casts to fp16 that nobody reads any more.
    used = {i for n in g.node for i in n.input} | graph_outputs
    g_nodes = [n for n in g.node if not (n.op_type == "Cast" and n.output[0] not in used)]
    del g.node[:]
    g.node.extend(g_nodes)


def _fits_protobuf(model: onnx.ModelProto) -> bool:
    from .onnx_io import tensor_bytes

    return tensor_bytes(model) < 1_900_000_000


def _drop_duplicate_casts(model: onnx.ModelProto) -> None:
    """The converter inserts the same Cast once per blocked consumer; keep the first."""
    seen: set[tuple] = set()
    keep = []
    for n in model.graph.node:
        key = (n.name, n.op_type, tuple(n.input), tuple(n.output))
        if n.op_type == "Cast" and key in seen:
            continue
        seen.add(key)
        keep.append(n)
    del model.graph.node[:]
    model.graph.node.extend(keep)


def _gemm_to_matmul(model: onnx.ModelProto) -> None:
    """Gemm(A, W, C) with a constant W -> MatMul(A, W') + C, so MatMulNBits can take it."""
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    new_nodes = []
    for n in g.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if (n.op_type != "Gemm" or n.input[1] not in inits or attrs.get("transA", 0)
                or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0):
            new_nodes.append(n)
            continue
        w = numpy_helper.to_array(inits[n.input[1]])
        if attrs.get("transB", 0):
            w = np.ascontiguousarray(w.T)
        w_name = n.input[1] + "_kn"
        g.initializer.append(numpy_helper.from_array(w, w_name))
        mm_out = n.output[0] + "_mm" if len(n.input) > 2 else n.output[0]
        new_nodes.append(helper.make_node("MatMul", [n.input[0], w_name], [mm_out], name=n.name + "_matmul"))
        if len(n.input) > 2 and n.input[2]:
            new_nodes.append(helper.make_node("Add", [mm_out, n.input[2]], [n.output[0]], name=n.name + "_bias"))
    del g.node[:]
    g.node.extend(new_nodes)
    _drop_unused_initializers(model)


def _drop_unused_initializers(model: onnx.ModelProto) -> None:
    g = model.graph
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    keep = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)


def _conv_weights_to_int8(model: onnx.ModelProto) -> int:
    """Conv weights -> int8 (per output channel, symmetric) + DequantizeLinear. Returns count."""
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    graph_inputs = {i.name for i in g.input}
    graph_outputs = {o.name for o in g.output}
    count = 0
    new_nodes = []
    for n in g.node:
        if n.op_type == "Conv" and len(n.input) > 1 and n.input[1] in inits:
            w_t = inits[n.input[1]]
            w = numpy_helper.to_array(w_t)
            edge = n.input[0] in graph_inputs or n.output[0] in graph_outputs
            if w.size >= MIN_CONV_WEIGHTS and not edge and w.dtype in (np.float32, np.float16):
                wf = w.astype(np.float32)
                amax = np.abs(wf.reshape(wf.shape[0], -1)).max(axis=1)
                scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
                q = np.clip(np.rint(wf / scale.reshape(-1, *([1] * (wf.ndim - 1)))), -127, 127).astype(np.int8)
                base = n.input[1]
                qn, sn, zn, dq = base + "_q8", base + "_scale", base + "_zp", base + "_dq"
                g.initializer.extend([
                    numpy_helper.from_array(q, qn),
                    numpy_helper.from_array(scale, sn),
                    numpy_helper.from_array(np.zeros(w.shape[0], np.int8), zn),
                ])
                # Opset 17 DequantizeLinear yields float32; fp16 graphs cast the result.
                new_nodes.append(helper.make_node("DequantizeLinear", [qn, sn, zn], [dq], name=n.name + "_dequant", axis=0))
                if w.dtype == np.float16:
                    new_nodes.append(helper.make_node("Cast", [dq], [dq + "_fp16"], name=n.name + "_dequant_fp16",
                                                      to=onnx.TensorProto.FLOAT16))
                    dq += "_fp16"
                n.input[1] = dq
                count += 1
        new_nodes.append(n)
    del g.node[:]
    g.node.extend(new_nodes)
    _drop_unused_initializers(model)
    return count


def quantize(model: onnx.ModelProto, bits: int) -> onnx.ModelProto:
    """Weight-only int8/int4 (see module doc)."""
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    if bits not in (4, 8):
        raise ValueError(f"bits must be 4 or 8, got {bits}")
    _name_nodes(model)
    _gemm_to_matmul(model)
    q = MatMulNBitsQuantizer(model, bits=bits, block_size=BLOCK_SIZE, is_symmetric=True,
                             op_types_to_quantize=("MatMul",))
    q.process()
    out = q.model.model
    _conv_weights_to_int8(out)
    return out


def apply(model: onnx.ModelProto, dtype: str, quant: str, surgery=None) -> onnx.ModelProto:
    """dtype 'fp32'|'fp16', quant 'none'|'int8'|'int4'; surgery: the surgery.py passes to run first, on the fp32
    graph (None: surgery.DEFAULT_PASSES; () or False: none; True: every pass)."""
    from . import surgery as graph_surgery

    passes = graph_surgery.resolve(surgery)
    if passes:
        model, _ = graph_surgery.apply(model, passes)
    if dtype == "fp16":
        model = to_fp16(model)
    elif dtype != "fp32":
        raise ValueError(f"--dtype must be fp32 or fp16, got {dtype!r}")
    if quant in ("int8", "int4"):
        model = quantize(model, 8 if quant == "int8" else 4)
    elif quant != "none":
        raise ValueError(f"--quantize must be none, int8 or int4, got {quant!r}")
    return model
