"""Export-time graph surgery for the WebGPU execution provider (issue 9, item 4).

`fuse_attention`: the TorchScript exporter writes scaled-dot-product attention as
head-split Reshape + Transpose of Q, K and V, a Transpose of K, two MatMuls, Softmax and a
Transpose + Reshape back (diffusers' AttnProcessor2_0 / AttnAddedKVProcessor2_0, the prior's
masked self-attention, MoVQ's spatial attention). Each Transpose is a GPU dispatch on every
run. This rewrites every such block into one `com.microsoft.MultiHeadAttention` on the
[batch, tokens, hidden] tensors the projections already produce:

- Kandinsky's added image-token K/V (AttnAddedKV: `cat([add_k_proj(enc), to_k(x)], dim=2)` in
  [B, heads, L, d] layout) becomes a Concat on axis 1 of the [B, L, hidden] projections;
- an additive mask before the Softmax (the prior's causal + padding mask, [B, heads, S, L])
  becomes MultiHeadAttention's `attention_bias` (input 5);
- torch's NaN guard after the Softmax (Where(IsNaN(p), 0, p), CLIP's text encoder) is dropped: the
  masks of these models never mask a whole row;
- the scale must be SDPA's default 1/sqrt(head size) (recognised as the exporter writes it:
  sqrt(1/sqrt(last dim of Q)) on Q and on K), which is MultiHeadAttention's default, or constant
  factors on Q and K (their product becomes `scale`), or a constant factor on the scores (transformers'
  eager attention). Anything else is left unfused.

onnxruntime implements MultiHeadAttention (float32 and float16) on the CPU (and so the wasm
build) and on the native WebGPU EP. The transposes between the NCHW feature maps and the
token layout (one before the Q/K/V projections and one after the output projection of each
spatial attention) stay: MultiHeadAttention takes tokens-major Q. Nodes the rewrite leaves
unused (shape arithmetic of the old head split) are removed.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import onnx
from onnx import helper, numpy_helper

MS_DOMAIN = "com.microsoft"
PASSES = ("attention", "groupnorm_affine", "attention_scale")
# What the exporter runs unless told otherwise (--surgery / --no-surgery). "attention" is opt-in: onnxruntime-web
# 1.30's WebGPU MultiHeadAttention computes wrong results on SwiftShader when the device has `subgroups` (its
# FlashAttention kernels; docs/gpu-surgery.md), and it has not been checked on a real GPU yet.
DEFAULT_PASSES = ("groupnorm_affine", "attention_scale")


def resolve(surgery) -> tuple[str, ...]:
    """None -> DEFAULT_PASSES, False/() -> (), True -> PASSES, else the given pass names (checked)."""
    if surgery is None:
        return DEFAULT_PASSES
    if surgery is True:
        return PASSES
    if surgery is False:
        return ()
    passes = tuple(surgery)
    for p in passes:
        if p not in PASSES:
            raise ValueError(f"unknown surgery pass {p!r}; expected one of {', '.join(PASSES)}")
    return passes


def add_arguments(parser) -> None:
    """--surgery PASS ... / --no-surgery, shared by python -m tools.export and tools.export.variant."""
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--surgery", nargs="+", choices=PASSES, metavar="PASS",
                   help=f"graph surgery passes to run (surgery.py; {', '.join(PASSES)}); default: {' '.join(DEFAULT_PASSES)}")
    g.add_argument("--no-surgery", action="store_true", help="no graph surgery: the graphs as the TorchScript exporter writes them")


def from_arguments(args) -> tuple[str, ...]:
    return () if args.no_surgery else resolve(args.surgery)


class _Graph:
    def __init__(self, model: onnx.ModelProto):
        self.model = model
        self.g = model.graph
        self.producer = {o: n for n in self.g.node for o in n.output if o}
        self.consumers: dict[str, list] = {}
        for n in self.g.node:
            for i in n.input:
                if i:
                    self.consumers.setdefault(i, []).append(n)
        self.inits = {t.name: t for t in self.g.initializer}
        self.outputs = {o.name for o in self.g.output}

    def op(self, tensor: str, *types: str):
        n = self.producer.get(tensor)
        return n if n is not None and (not types or n.op_type in types) else None

    def only_consumer(self, tensor: str):
        c = self.consumers.get(tensor, [])
        return c[0] if len(c) == 1 and tensor not in self.outputs else None

    def const(self, tensor: str):
        if tensor in self.inits:
            return numpy_helper.to_array(self.inits[tensor])
        n = self.producer.get(tensor)
        if n is not None and n.op_type == "Identity":  # the exporter's shared weights
            return self.const(n.input[0])
        if n is not None and n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
            return numpy_helper.to_array(n.attribute[0].t)
        return None


def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _width(gr: _Graph, x: str) -> int | None:
    """Hidden size of a projection's output: Add(bias, MatMul(., W)) or MatMul(., W) with constant W / bias."""
    n = gr.producer.get(x)
    if n is None or n.op_type not in ("Add", "MatMul"):
        return None
    for i in n.input:
        c = gr.const(i)
        if c is not None and c.ndim >= 1:
            return int(c.shape[-1])
    return _width(gr, n.input[1]) if n.op_type == "Add" and gr.op(n.input[1], "MatMul") else None


def _reshape_target(gr: _Graph, shape: str) -> list[int] | None:
    """A Reshape's target as numbers (a constant, or a Concat of one-element parts; 0 where a part is not constant)."""
    c = gr.const(shape)
    if c is not None:
        return [int(v) for v in c.reshape(-1)]
    cat = gr.op(shape, "Concat")
    if cat is None:
        return None
    vals = [gr.const(i) for i in cat.input]
    return [int(v.reshape(-1)[0]) if v is not None and v.size == 1 else 0 for v in vals]


def _head_split(gr: _Graph, shape: str, x: str) -> tuple[int, int] | None:
    """(heads, head size) of a head-split Reshape of x to [B, S, heads, d]: from its target, where one of the two
    is not written there (transformers' [B, S, -1, d], diffusers' d computed from a shape), from x's projection width."""
    dims = _reshape_target(gr, shape)
    if dims is None or len(dims) != 4:
        return None
    heads, d = dims[2], dims[3]
    width = _width(gr, x)
    if heads == -1 and d > 0 and width and width % d == 0:
        heads = width // d
    if d <= 0 and heads > 0 and width and width % heads == 0:
        d = width // heads
    return (heads, d) if heads > 0 and d > 0 else None


def _heads(gr: _Graph, shape: str, x: str) -> int | None:
    """Number of heads from a head-split Reshape's target [B, S, heads, d] (a Concat or a constant); with
    [B, S, -1, d] (transformers' view(B, S, -1, head_dim)) from the width of x, the projection it splits."""
    dims = _reshape_target(gr, shape)
    if dims is not None and len(dims) == 4 and dims[2] > 0:
        return dims[2]
    split = _head_split(gr, shape, x)
    return split[0] if split else None


def _split(gr: _Graph, tensor: str, perm: list[int]) -> tuple[str, int] | None:
    """tensor = Transpose(perm)(Reshape(x, [B, S, heads, d])) -> (x, heads)."""
    t = gr.op(tensor, "Transpose")
    if t is None or list(_attr(t, "perm", [])) != perm:
        return None
    r = gr.op(t.input[0], "Reshape")
    if r is None:
        return None
    heads = _heads(gr, r.input[1], r.input[0])
    return (r.input[0], heads) if heads else None


def _kv(gr: _Graph, tensor: str, perm=(0, 2, 1, 3)) -> tuple[list[str], int] | None:
    """[B, heads, L, d] K or V: one head split, or a Concat on axis 2 of head splits -> ([x...], heads)."""
    one = _split(gr, tensor, list(perm))
    if one is not None:
        return [one[0]], one[1]
    cat = gr.op(tensor, "Concat")
    if cat is None or _attr(cat, "axis") not in (2, -2):
        return None
    parts = [_split(gr, i, list(perm)) for i in cat.input]
    if any(p is None for p in parts) or len({p[1] for p in parts}) != 1:
        return None
    return [p[0] for p in parts], parts[0][1]


def _default_scale_factor(gr: _Graph, tensor: str, q_split: str) -> bool:
    """sqrt(1/sqrt(last dim of Q)) as torch exports SDPA's default scale (applied to Q and to K)."""
    chain = []
    t = tensor
    for _ in range(12):
        n = gr.producer.get(t)
        if n is None:
            return False
        chain.append(n.op_type)
        if n.op_type == "Shape":
            return n.input[0] == q_split and chain.count("Sqrt") == 2 and "Div" in chain and "Slice" in chain
        if n.op_type == "Div":
            one = gr.const(n.input[0])
            if one is None or one.size != 1 or float(one.reshape(-1)[0]) != 1.0:
                return False
            t = n.input[1]
        elif n.op_type in ("Sqrt", "Cast", "Slice"):
            t = n.input[0]
        else:
            return False
    return False


def _scaled(gr: _Graph, tensor: str):
    """tensor = Mul(x, s) or x -> (x, s tensor or None)."""
    m = gr.op(tensor, "Mul")
    if m is None:
        return tensor, None
    for a, b in ((0, 1), (1, 0)):
        if gr.op(m.input[a], "Transpose") is not None:
            return m.input[a], m.input[b]
    return tensor, None


def _nan_guard(gr: _Graph, probs: str) -> str:
    """Where(IsNaN(p), 0, p) after the Softmax (torch's SDPA export guards fully masked rows; transformers' CLIP
    and XLM-R masks always leave a row's own or first token, so no row is fully masked) -> its output, else p."""
    users = gr.consumers.get(probs, [])
    if len(users) != 2 or probs in gr.outputs:
        return probs
    isnan = next((u for u in users if u.op_type == "IsNaN"), None)
    where = next((u for u in users if u.op_type == "Where"), None)
    if isnan is None or where is None or list(where.input[::2]) != [isnan.output[0], probs]:
        return probs
    zero = gr.const(where.input[1])
    if zero is None or zero.size != 1 or float(zero.reshape(-1)[0]) != 0.0 or gr.only_consumer(isnan.output[0]) is None:
        return probs
    return where.output[0]


def _match(gr: _Graph, softmax) -> dict | None:
    if _attr(softmax, "axis", -1) not in (-1, 3):
        return None
    x = softmax.input[0]
    mask = None
    add = gr.op(x, "Add")
    if add is not None:
        for a, b in ((0, 1), (1, 0)):
            if gr.op(add.input[a], "MatMul", "Mul") is not None and gr.op(add.input[b], "MatMul", "Mul") is None:
                x, mask = add.input[a], add.input[b]
                break
        else:
            return None
    post = None  # a constant scale on the scores (transformers' eager attention: (q @ k^T) * scaling)
    mul = gr.op(x, "Mul")
    if mul is not None and gr.only_consumer(x) is not None:
        for a, b in ((0, 1), (1, 0)):
            c = gr.const(mul.input[b])
            if gr.op(mul.input[a], "MatMul") is not None and c is not None and c.size == 1:
                x, post = mul.input[a], float(c.reshape(-1)[0])
                break
        else:
            return None
    qk = gr.op(x, "MatMul")
    if qk is None or gr.only_consumer(x) is None:
        return None
    qt, sq = _scaled(gr, qk.input[0])
    kt, sk = _scaled(gr, qk.input[1])
    if post is not None and (sq is not None or sk is not None):
        return None
    q = _split(gr, qt, [0, 2, 1, 3])
    if q is None:
        return None
    k = None
    ktr = gr.op(kt, "Transpose")
    if ktr is not None and list(_attr(ktr, "perm", [])) == [0, 2, 3, 1]:
        k = _kv(gr, kt, (0, 2, 3, 1))
    elif ktr is not None and list(_attr(ktr, "perm", [])) == [0, 1, 3, 2]:
        k = _kv(gr, ktr.input[0])
    if k is None:
        return None
    scale = None  # MultiHeadAttention's default, 1/sqrt(head size)
    if (sq is None) != (sk is None):
        return None
    if post is not None:
        scale = post
    elif sq is not None:
        cq, ck = gr.const(sq), gr.const(sk)
        if cq is not None and ck is not None and cq.size == 1 and ck.size == 1:
            scale = float(cq.reshape(-1)[0]) * float(ck.reshape(-1)[0])
        elif not (_default_scale_factor(gr, sq, qt) and _default_scale_factor(gr, sk, qt)):
            return None
    else:
        return None  # unscaled scores: MultiHeadAttention always scales; not a pattern we export
    probs = softmax.output[0]
    # softmax(..., dtype=float32).to(q.dtype) in an fp32 graph (CLIP in transformers 5): Casts to float32.
    while (cast := gr.only_consumer(probs)) is not None and cast.op_type == "Cast" and _attr(cast, "to") == onnx.TensorProto.FLOAT:
        probs = cast.output[0]
    probs = _nan_guard(gr, probs)
    pv = gr.only_consumer(probs)
    if pv is None or pv.op_type != "MatMul" or pv.input[0] != probs:
        return None
    v = _kv(gr, pv.input[1])
    if v is None or len(v[0]) != len(k[0]):
        return None
    back = gr.only_consumer(pv.output[0])
    if back is None or back.op_type != "Transpose" or list(_attr(back, "perm", [])) != [0, 2, 1, 3]:
        return None
    merge = gr.only_consumer(back.output[0])
    if merge is None or merge.op_type != "Reshape":
        return None
    heads = {q[1], k[1], v[1]}
    if len(heads) != 1:
        return None
    return {"q": q[0], "k": k[0], "v": v[0], "heads": heads.pop(), "scale": scale, "mask": mask,
            "out": merge.output[0], "replaced": merge, "name": softmax.name.rsplit("/", 1)[0] or softmax.name}


def _remove_dead(model: onnx.ModelProto) -> int:
    g = model.graph
    outputs = {o.name for o in g.output}
    removed = 0
    while True:
        used = {i for n in g.node for i in n.input} | outputs
        keep = [n for n in g.node if any(o in used for o in n.output if o)]
        if len(keep) == len(g.node):
            break
        removed += len(g.node) - len(keep)
        del g.node[:]
        g.node.extend(keep)
    used = {i for n in g.node for i in n.input} | outputs
    inits = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(inits)
    return removed


def fuse_attention(model: onnx.ModelProto) -> int:
    """Rewrite every matched attention block into com.microsoft.MultiHeadAttention (in place). Returns the count."""
    gr = _Graph(model)
    found = [m for n in list(gr.g.node) if n.op_type == "Softmax" for m in [_match(gr, n)] if m is not None]
    if not found:
        return 0
    replace = {id(m["replaced"]): m for m in found}
    nodes = []
    for n in gr.g.node:
        m = replace.get(id(n))
        if m is None:
            nodes.append(n)
            continue
        base = m["name"] + "/mha"
        k, v = m["k"][0], m["v"][0]
        if len(m["k"]) > 1:
            k, v = base + "/key", base + "/value"
            nodes.append(helper.make_node("Concat", m["k"], [k], name=base + "/concat_key", axis=1))
            nodes.append(helper.make_node("Concat", m["v"], [v], name=base + "/concat_value", axis=1))
        inputs = [m["q"], k, v] + (["", "", m["mask"]] if m["mask"] else [])
        attrs = {"num_heads": m["heads"]}
        if m["scale"] is not None:
            attrs["scale"] = m["scale"]
        nodes.append(helper.make_node("MultiHeadAttention", inputs, [m["out"]], name=base, domain=MS_DOMAIN, **attrs))
    del gr.g.node[:]
    gr.g.node.extend(nodes)
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    _remove_dead(model)
    return len(found)


def fuse_groupnorm_affine(model: onnx.ModelProto) -> int:
    """GroupNorm's per-channel affine after InstanceNormalization (Reshape -> Mul(gamma [C,1,1]) -> Add(beta [C,1,1]),
    two elementwise dispatches) as one depthwise 1x1 Conv (weight gamma [C,1,1,1], bias beta, group C), in place.
    The statistics stay in InstanceNormalization (fp32 in fp16 graphs, precision.FP16_BLOCKED_OPS). Returns the count."""
    gr = _Graph(model)
    replace, drop = {}, set()
    for n in gr.g.node:
        if n.op_type != "InstanceNormalization":
            continue
        r = gr.only_consumer(n.output[0])
        mul = gr.only_consumer(r.output[0]) if r is not None and r.op_type == "Reshape" else None
        if mul is None or mul.op_type != "Mul":
            continue
        add = gr.only_consumer(mul.output[0])
        if add is None or add.op_type != "Add":
            continue
        x = r.output[0]
        gamma_name = mul.input[1] if mul.input[0] == x else mul.input[0]
        beta_name = add.input[1] if add.input[0] == mul.output[0] else add.input[0]
        gamma, beta = gr.const(gamma_name), gr.const(beta_name)
        if (gamma is None or beta is None or gamma.ndim != 3 or gamma.shape[1:] != (1, 1) or beta.shape != gamma.shape
                or gamma.dtype != np.float32 or beta.dtype != np.float32):
            continue
        c = gamma.shape[0]
        w_name, b_name = add.name + "_dw_weight", add.name + "_dw_bias"
        gr.g.initializer.extend([numpy_helper.from_array(gamma.reshape(c, 1, 1, 1), w_name),
                                 numpy_helper.from_array(beta.reshape(c), b_name)])
        replace[id(add)] = helper.make_node("Conv", [x, w_name, b_name], [add.output[0]], name=add.name + "_affine",
                                            group=c, kernel_shape=[1, 1], pads=[0, 0, 0, 0], strides=[1, 1], dilations=[1, 1])
        drop.add(id(mul))
    if not replace:
        return 0
    nodes = [replace.get(id(n), n) for n in gr.g.node if id(n) not in drop]
    del gr.g.node[:]
    gr.g.node.extend(nodes)
    _remove_dead(model)
    return len(replace)


def _last_dim(gr: _Graph, tensor: str) -> int | None:
    """The head size of a head split, Transpose(Reshape(x, [B, S, heads, d])) with d kept last, where it is fixed."""
    t = gr.op(tensor, "Transpose")
    r = gr.op(t.input[0], "Reshape") if t is not None else None
    if r is None or int(list(_attr(t, "perm", []))[-1]) != 3:
        return None
    split = _head_split(gr, r.input[1], r.input[0])
    return split[1] if split else None


def _shape_scale(gr: _Graph, tensor: str) -> np.ndarray | None:
    """The value of `tensor` when it is SDPA's scale arithmetic on a fixed head size, replayed in float32 as the CPU
    EP computes it: Sqrt / Cast-to-float / Div(1, .) down to Slice(Shape(Q), -1:) with Q's last dim fixed."""
    n = gr.producer.get(tensor)
    if n is None:
        return None
    if n.op_type == "Slice":
        start = gr.const(n.input[1]) if len(n.input) > 1 else None
        end = gr.const(n.input[2]) if len(n.input) > 2 else None
        axes = gr.const(n.input[3]) if len(n.input) > 3 and n.input[3] else None
        shape = gr.op(n.input[0], "Shape")
        if (shape is None or start is None or end is None or start.reshape(-1).tolist() != [-1]
                or int(end.reshape(-1)[0]) < 1 or (axes is not None and axes.reshape(-1).tolist() not in ([0], [-1]))
                or _attr(shape, "start") is not None or _attr(shape, "end") is not None):
            return None
        d = _last_dim(gr, shape.input[0])
        return None if d is None else np.array([d], dtype=np.int64)
    if n.op_type == "Cast":
        x = _shape_scale(gr, n.input[0])
        return None if x is None or _attr(n, "to") != onnx.TensorProto.FLOAT else x.astype(np.float32)
    if n.op_type == "Sqrt":
        x = _shape_scale(gr, n.input[0])
        return None if x is None or x.dtype != np.float32 else np.sqrt(x)
    if n.op_type == "Div":
        one = gr.const(n.input[0])
        x = _shape_scale(gr, n.input[1])
        if one is None or one.size != 1 or float(one.reshape(-1)[0]) != 1.0 or x is None or x.dtype != np.float32:
            return None
        return (np.float32(1.0) / x).astype(np.float32)
    return None


def fold_attention_scale(model: onnx.ModelProto) -> int:
    """SDPA's default scale as torch exports it (sqrt(1/sqrt(d)) from Shape(Q), on Q and K) as a float32 constant, in
    place. onnxruntime computes that shape arithmetic on the CPU and uploads the result on every run (4 uploads per
    UNet step on the WebGPU EP, docs/gpu-surgery.md); the head size d is fixed by Q's head-split Reshape, so the value
    is too. Replayed in float32 step by step, it is the number the CPU EP computed. Returns the count of scales."""
    gr = _Graph(model)
    folded = {}
    for n in gr.g.node:
        if n.op_type != "Sqrt" or any(c.op_type in ("Div", "Cast", "Sqrt") for c in gr.consumers.get(n.output[0], [])):
            continue  # only the outermost Sqrt of a chain
        value = _shape_scale(gr, n.output[0])
        if value is not None and value.dtype == np.float32:
            folded[n.output[0]] = value
    if not folded:
        return 0
    for name, value in folded.items():
        const = name + "_folded"
        gr.g.initializer.append(numpy_helper.from_array(value, const))
        for c in gr.g.node:
            for i, x in enumerate(c.input):
                if x == name:
                    c.input[i] = const
    _remove_dead(model)
    return len(folded)


def apply(model: onnx.ModelProto, passes=PASSES) -> tuple[onnx.ModelProto, dict]:
    """Run the surgery passes on an fp32 graph (before precision conversion). Returns (model, counts)."""
    counts = {}
    chosen = resolve(passes)
    # In PASSES order whatever the order asked: `attention` recognises the scale arithmetic that `attention_scale` folds.
    for p in (p for p in PASSES if p in chosen):
        if p == "attention":
            counts["attention"] = fuse_attention(model)
        elif p == "groupnorm_affine":
            counts["groupnorm_affine"] = fuse_groupnorm_affine(model)
        elif p == "attention_scale":
            counts["attention_scale"] = fold_attention_scale(model)
        else:
            raise ValueError(f"unknown surgery pass {p!r}; expected one of {', '.join(PASSES)}")
    return model, counts


def op_counts(model: onnx.ModelProto) -> Counter:
    return Counter(n.op_type for n in model.graph.node)
