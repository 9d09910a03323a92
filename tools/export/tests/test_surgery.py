"""Graph surgery (surgery.py): attention as com.microsoft.MultiHeadAttention and GroupNorm's affine as a depthwise
1x1 Conv, checked against PyTorch and the unfused graphs at SPEC §4's fp32 tolerance, and by what is left in the graphs."""
from __future__ import annotations

import collections
import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from tools.export import surgery

ROOT = Path(__file__).resolve().parents[3]
STAGES = ("text_encoder", "prior", "unet", "movq_decoder")
TOLERANCE = 1e-4  # SPEC §4 (wasm, embeddings), relative to max(1, max|ref|) as verify.py


def _ops(path: Path) -> collections.Counter:
    return collections.Counter(n.op_type for n in onnx.load(str(path)).graph.node)


def _head_transposes(path: Path) -> int:
    """Transposes of 4-d tensors (head split/merge, K^T) left in a graph."""
    return sum(1 for n in onnx.load(str(path)).graph.node if n.op_type == "Transpose"
               and len(next((list(a.ints) for a in n.attribute if a.name == "perm"), [])) == 4)


@pytest.fixture(scope="module")
def fused_and_plain(checkpoints, tmp_path_factory) -> tuple[Path, Path]:
    from .conftest import export

    fused, plain = tmp_path_factory.mktemp("surgery-fused"), tmp_path_factory.mktemp("surgery-plain")
    # verify.py: ORT vs PyTorch, 1e-4
    assert export(checkpoints, fused, "fp32", "none", "--stages", *STAGES, "--surgery", *surgery.PASSES) == 0
    assert export(checkpoints, plain, "fp32", "none", "--stages", *STAGES, "--no-surgery") == 0
    return fused, plain


@pytest.mark.parametrize("stage", STAGES)
def test_fused_stage_matches_pytorch(checkpoints, fused_and_plain, stage):
    from tools.export.stages import load_module, stage_contract
    from tools.export.verify import verify_stage

    fused, _ = fused_and_plain
    entry = json.loads((fused / "manifest.json").read_text())["stages"][stage]
    st = stage_contract(stage, 32, 32)
    st = type(st)(st.name, st.source, entry["inputs"], entry["outputs"], st.int64_inputs, st.tokens)
    module = load_module(stage, checkpoints[st.source])
    worst, tol, ok = verify_stage(module, st, fused / entry["file"], "fp32", "none")
    assert ok and worst <= TOLERANCE, (stage, worst)


@pytest.mark.parametrize("stage", STAGES)
def test_every_attention_becomes_one_multihead_attention(fused_and_plain, stage):
    fused, plain = fused_and_plain
    a, b = _ops(fused / f"{stage}.onnx"), _ops(plain / f"{stage}.onnx")
    assert b["Softmax"] > 0 and b["MultiHeadAttention"] == 0
    assert a["MultiHeadAttention"] == b["Softmax"] and a["Softmax"] == 0, (stage, a)
    assert _head_transposes(fused / f"{stage}.onnx") == 0
    # What stays: one NCHW -> tokens and one tokens -> NCHW transpose per spatial attention (UNet, MoVQ).
    spatial = stage in ("unet", "movq_decoder")
    assert a["Transpose"] == (2 * a["MultiHeadAttention"] if spatial else b["Transpose"] - 4 * b["Softmax"]), (stage, a["Transpose"])
    assert sum(a.values()) < sum(b.values())
    model = onnx.load(str(fused / f"{stage}.onnx"))
    assert any(o.domain == surgery.MS_DOMAIN for o in model.opset_import)


@pytest.mark.parametrize("stage", ["unet", "movq_decoder"])
def test_groupnorm_affine_becomes_a_depthwise_conv(fused_and_plain, stage):
    """Reshape -> InstanceNormalization -> Reshape -> Mul(gamma) -> Add(beta) on NCHW maps: the Mul + Add become one
    Conv(group = C) reading the InstanceNormalization's output; the 3-d GroupNorms of the UNet's attentions stay."""
    fused, plain = fused_and_plain
    g = onnx.load(str(fused / f"{stage}.onnx")).graph
    producer = {o: n for n in g.node for o in n.output}
    depthwise = [n for n in g.node if n.op_type == "Conv" and next(a.i for a in n.attribute if a.name == "group") > 1]
    assert depthwise
    for n in depthwise:
        assert producer[producer[n.input[0]].input[0]].op_type == "InstanceNormalization"
    norms = _ops(fused / f"{stage}.onnx")["InstanceNormalization"]
    assert norms == _ops(plain / f"{stage}.onnx")["InstanceNormalization"]
    assert len(depthwise) == norms - (_ops(plain / f"{stage}.onnx")["Softmax"] if stage == "unet" else 0)


def test_default_passes(checkpoints, tmp_path):
    """What python -m tools.export runs without --surgery (surgery.DEFAULT_PASSES): no MultiHeadAttention, the
    attention scales folded (no Sqrt left: it appears in these graphs only in the scale arithmetic)."""
    from .conftest import export

    assert surgery.DEFAULT_PASSES == ("groupnorm_affine", "attention_scale")
    assert export(checkpoints, tmp_path, "fp32", "none", "--stages", "unet") == 0
    ops = _ops(tmp_path / "unet.onnx")
    assert ops["MultiHeadAttention"] == 0 and ops["Softmax"] > 0 and ops["Conv"] > ops["InstanceNormalization"]
    assert ops["Sqrt"] == 0


def test_unet_keeps_the_image_token_kv_concat(fused_and_plain):
    """AttnAddedKV: K and V are Concat(add_k_proj(image tokens), to_k(x)) on the token axis, feeding MHA."""
    fused, _ = fused_and_plain
    g = onnx.load(str(fused / "unet.onnx")).graph
    producer = {o: n for n in g.node for o in n.output}
    for n in (n for n in g.node if n.op_type == "MultiHeadAttention"):
        for i in n.input[1:3]:
            cat = producer[i]
            assert cat.op_type == "Concat" and cat.attribute[0].i == 1 and len(cat.input) == 2


def test_prior_mask_becomes_attention_bias(fused_and_plain):
    fused, _ = fused_and_plain
    nodes = [n for n in onnx.load(str(fused / "prior.onnx")).graph.node if n.op_type == "MultiHeadAttention"]
    assert nodes and all(len(n.input) == 6 and n.input[5] and not n.input[3] and not n.input[4] for n in nodes)


def _run(path: Path, feeds: dict) -> list:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"]).run(None, feeds)


def _feeds(entry: dict, batch: int = 2, side: int = 64) -> dict:
    rng = np.random.default_rng(7)
    out = {}
    for k, shape in entry["inputs"].items():
        dims = [batch if x == "batch" else side // 8 if x in ("height", "width") else side if x in ("H", "W") else x for x in shape]
        if k == "input_ids":
            ids = rng.integers(4, 100, dims)
            ids[:, 9:] = 1
            out[k] = ids.astype(np.int64)
        elif k == "attention_mask":
            m = np.zeros(dims, np.int64)
            m[:, :9] = 1
            out[k] = m
        elif k == "timestep":
            out[k] = np.array([999.0, 3.0][:batch], np.float32)
        else:
            out[k] = rng.standard_normal(dims).astype(np.float32)
    return out


def _assert_same_outputs(folder: Path, entry: dict, model: onnx.ModelProto, tmp_path: Path, name: str) -> Path:
    """The rewritten stage saved next to the test, run in onnxruntime against the shipped graph (SPEC §4's fp32 tolerance)."""
    path = tmp_path / entry["file"]
    onnx.save(model, str(path))
    feeds = _feeds(entry)
    for ref, got in zip(_run(folder / entry["file"], feeds), _run(path, feeds)):
        scale = max(1.0, float(np.abs(ref).max()))
        assert float(np.abs(ref - got).max()) <= TOLERANCE * scale, name
    return path


@pytest.mark.parametrize("bundle", ["tiny-kandinsky-2-2", "tiny-kandinsky-2-1"])
def test_shipped_graphs_fused_match_unfused(bundle, tmp_path):
    """Every stage of the shipped tiny bundles (2.1: the text_image UNet and M-CLIP too), fused here, against the
    shipped graph in onnxruntime; no PyTorch needed (what `python -m tools.export.variant` does)."""
    folder = ROOT / "public/models" / bundle
    manifest = json.loads((folder / "manifest.json").read_text())
    fused_any = 0
    for name, entry in manifest["stages"].items():
        model = onnx.load(str(folder / entry["file"]))
        model, counts = surgery.apply(model)
        fused_any += counts["attention"]
        onnx.checker.check_model(model)
        path = _assert_same_outputs(folder, entry, model, tmp_path, name)
        assert _head_transposes(path) == 0, name
    assert fused_any > 0


def test_surgery_is_idempotent_and_optional(tmp_path):
    from tools.export.precision import apply

    src = onnx.load(str(ROOT / "public/models/tiny-kandinsky-2-2/prior.onnx"))
    once, counts = surgery.apply(onnx.load_from_string(src.SerializeToString()))
    # `attention` runs first and takes the scale arithmetic with it: nothing left for `attention_scale`.
    assert counts == {"attention": 2, "groupnorm_affine": 0, "attention_scale": 0}
    twice, again = surgery.apply(onnx.load_from_string(once.SerializeToString()))
    assert again == {"attention": 0, "groupnorm_affine": 0, "attention_scale": 0} and twice.SerializeToString() == once.SerializeToString()
    folded, counts = surgery.apply(onnx.load_from_string(src.SerializeToString()), ("attention_scale",))
    assert counts == {"attention_scale": 4}
    assert surgery.apply(onnx.load_from_string(folded.SerializeToString()), ("attention_scale",))[1] == {"attention_scale": 0}
    plain = apply(onnx.load_from_string(src.SerializeToString()), "fp32", "none", surgery=False)
    assert plain.SerializeToString() == src.SerializeToString()


@pytest.mark.parametrize("bundle", ["tiny-kandinsky-2-2", "tiny-kandinsky-2-1"])
def test_attention_scale_is_folded_to_the_value_the_cpu_computed(bundle, tmp_path):
    """`attention_scale` alone on the shipped graphs: every scale chain (2 per attention: on Q and on K) becomes a
    float32 constant sqrt(1/sqrt(d)), no Shape feeds float arithmetic any more, and the outputs stay those of the
    shipped graph in onnxruntime (SPEC §4's fp32 tolerance)."""
    folder = ROOT / "public/models" / bundle
    manifest = json.loads((folder / "manifest.json").read_text())
    expected = {"unet": 8, "unet_inpaint": 8, "prior": 4, "movq_decoder": 6, "movq_encoder": 4}
    for name, entry in manifest["stages"].items():
        model, counts = surgery.apply(onnx.load(str(folder / entry["file"])), ("attention_scale",))
        assert counts["attention_scale"] == expected.get(name, 0), name
        ops = collections.Counter(n.op_type for n in model.graph.node)
        assert ops["Sqrt"] == 0, name
        for t in model.graph.initializer:
            if t.name.endswith("_folded"):
                v = onnx.numpy_helper.to_array(t)
                assert v.dtype == np.float32 and v.shape == (1,)
                d = np.float32(1.0) / np.square(np.square(v[0]))  # sqrt(1/sqrt(d)) back to d
                assert abs(d - round(float(d))) < 1e-3 and round(float(d)) in (4, 8, 16, 32, 64), (name, float(d))
        path = _assert_same_outputs(folder, entry, model, tmp_path, name)
