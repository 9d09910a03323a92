"""Exported bundles: contract (SPEC §2), files, precision variants, ONNX vs PyTorch per stage."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from tools.export.configs import REPO_ROOT
from tools.export.stages import STAGE_NAMES, load_module, stage_contract
from tools.export.verify import TOLERANCE, verify_stage

from .conftest import VARIANTS, export

FIXTURE = REPO_ROOT / "public/models/tiny-kandinsky-2-2"


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def _dims(value_info) -> list:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_manifest_matches_the_fixture_contract(bundles, variant):
    ours, ref = manifest(bundles[variant]), manifest(FIXTURE)
    assert ours["format"] == "kandinsky-onnx-bundle" and ours["version"] == 1
    assert ours["embedding_dim"] == ref["embedding_dim"] == 32
    for key in ("text", "image_processor", "movq"):
        assert ours[key] == ref[key], key
    assert set(ours["stages"]) == set(ref["stages"]) == set(STAGE_NAMES)
    for name, stage in ref["stages"].items():
        assert ours["stages"][name]["inputs"] == stage["inputs"], name
        assert ours["stages"][name]["outputs"] == stage["outputs"], name
    assert ours["stages"]["prior"]["stats"] == "prior_stats.json"
    assert ours["schedulers"] == ref["schedulers"]
    assert ours["scheduler_alternatives"] == ref["scheduler_alternatives"]
    dtype, quant = VARIANTS[variant]
    assert ours["precision"] == {"dtype": dtype, "quantize": quant, "requires_shader_f16": dtype == "fp16"}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_files_match_manifest_and_graphs_match_contract(bundles, variant):
    folder = bundles[variant]
    m = manifest(folder)
    for name, stage in m["stages"].items():
        data = (folder / stage["file"]).read_bytes()
        assert len(data) == stage["bytes"] and hashlib.sha256(data).hexdigest() == stage["sha256"], name
        graph = onnx.load(str(folder / stage["file"])).graph
        assert [i.name for i in graph.input] == list(stage["inputs"]), name
        assert [o.name for o in graph.output] == list(stage["outputs"]), name
        for vi in list(graph.input) + list(graph.output):
            want = (stage["inputs"] | stage["outputs"])[vi.name]
            got = _dims(vi)
            # Every symbolic axis of the contract is dynamic in the graph, every fixed one fixed.
            for w, g in zip(want, got):
                assert (isinstance(g, str) if isinstance(w, str) else g == w), (name, vi.name, want, got)
            elem = vi.type.tensor_type.elem_type
            int64 = vi.name in ("input_ids", "attention_mask")
            assert elem == (onnx.TensorProto.INT64 if int64 else onnx.TensorProto.FLOAT), (name, vi.name)
    tok = folder / m["text"]["tokenizer"]
    assert json.loads(tok.read_text())["model"]["vocab"] == json.loads(
        (FIXTURE / "tokenizer/tokenizer.json").read_text())["model"]["vocab"]
    assert json.loads((folder / "tokenizer/tokenizer_config.json").read_text()) == json.loads(
        (FIXTURE / "tokenizer/tokenizer_config.json").read_text())
    stats = json.loads((folder / "prior_stats.json").read_text())
    assert len(stats["clip_mean"]) == len(stats["clip_std"]) == 32


def test_prior_stats_are_the_priors_buffers(bundles, checkpoints):
    from diffusers import PriorTransformer

    prior = PriorTransformer.from_pretrained(checkpoints["prior"] / "prior")
    stats = json.loads((bundles["fp32"] / "prior_stats.json").read_text())
    np.testing.assert_allclose(stats["clip_mean"], prior.clip_mean.detach().reshape(-1).numpy(), rtol=0, atol=1e-7)
    np.testing.assert_allclose(stats["clip_std"], prior.clip_std.detach().reshape(-1).numpy(), rtol=0, atol=1e-7)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_onnx_matches_pytorch(bundles, checkpoints, variant, stage):
    dtype, quant = VARIANTS[variant]
    st = stage_contract(stage, 32, 32)
    module = load_module(stage, checkpoints[st.source])
    entry = manifest(bundles[variant])["stages"][stage]
    worst, tol, ok = verify_stage(module, st, bundles[variant] / entry["file"], dtype, quant, shapes=((2, 64), (3, 96)))
    assert ok, f"{variant} {stage}: error {worst:.3e} x max(1,|ref|) above {tol:.0e}"
    if variant == "fp32":
        assert worst < 1e-5  # measured 2e-6 at most: far inside SPEC's per-stage 2.1e-5


def test_precision_variants_use_the_intended_operators(bundles):
    def ops(variant, stage):
        g = onnx.load(str(bundles[variant] / f"{stage}.onnx")).graph
        return [n.op_type for n in g.node], g

    unet16, g16 = ops("fp16", "unet")
    halves = [t for t in g16.initializer if t.data_type == onnx.TensorProto.FLOAT16]
    assert len(halves) > 20
    # Normalisations and the timestep sinusoids (and the products feeding them) stay in fp32.
    inferred = onnx.shape_inference.infer_shapes(onnx.load(str(bundles["fp16"] / "unet.onnx")))
    types = {v.name: v.type.tensor_type.elem_type for v in inferred.graph.value_info}
    producer = {o: n for n in inferred.graph.node for o in n.output}
    checked = 0
    for n in inferred.graph.node:
        if n.op_type in ("Sin", "Cos", "InstanceNormalization", "LayerNormalization", "Softmax"):
            assert types[n.input[0]] == onnx.TensorProto.FLOAT, n.name
            checked += 1
        if n.op_type in ("Sin", "Cos"):
            mul = producer[n.input[0]]
            assert all(types.get(i, onnx.TensorProto.FLOAT) == onnx.TensorProto.FLOAT for i in mul.input), mul.name
    assert checked > 10
    unet8, g8 = ops("int8", "unet")
    assert "MatMulNBits" in unet8 and "DequantizeLinear" in unet8
    assert "MatMul" not in [n.op_type for n in g8.node if n.op_type == "MatMul" and n.input[1] in {t.name for t in g8.initializer}]
    nbits = [n for n in g8.node if n.op_type == "MatMulNBits"]
    assert all(next(a.i for a in n.attribute if a.name == "bits") == 8 for n in nbits)
    size = {v: sum((bundles[v] / f"{s}.onnx").stat().st_size for s in ("unet", "prior")) for v in VARIANTS}
    assert size["fp16"] < 0.6 * size["fp32"] and size["int8"] < 0.45 * size["fp32"]


def test_int4_export_runs_and_verifies(checkpoints, tmp_path):
    assert export(checkpoints, tmp_path, "fp32", "int4", "--stages", "prior", "unet") == 0
    g = onnx.load(str(tmp_path / "unet.onnx")).graph
    nbits = [n for n in g.node if n.op_type == "MatMulNBits"]
    assert nbits and all(next(a.i for a in n.attribute if a.name == "bits") == 4 for n in nbits)
    assert set(manifest(tmp_path)["stages"]) == {"prior", "unet"}


def test_large_weights_go_to_external_chunks(checkpoints, tmp_path, monkeypatch):
    """Weights over the inline limit land in <stem>.onnx.data<i> files, none over the chunk size."""
    import onnxruntime as ort

    from tools.export import onnx_io

    monkeypatch.setattr(onnx_io, "INLINE_LIMIT", 1_000_000)
    monkeypatch.setattr(onnx_io, "CHUNK_BYTES", 1_500_000)
    assert export(checkpoints, tmp_path, "fp32", "none", "--stages", "unet") == 0
    entry = manifest(tmp_path)["stages"]["unet"]
    chunks = entry["external_data"]
    assert len(chunks) >= 2
    for c in chunks:
        data = (tmp_path / c["path"]).read_bytes()
        assert 0 < len(data) <= 1_500_000 and hashlib.sha256(data).hexdigest() == c["sha256"] and len(data) == c["bytes"]
    assert entry["bytes"] < 400_000  # the graph and its small tensors
    sess = ort.InferenceSession(str(tmp_path / "unet.onnx"), providers=["CPUExecutionProvider"])
    out = sess.run(None, {"sample": np.zeros((1, 4, 8, 8), np.float32), "timestep": np.array([10.0], np.float32),
                          "image_embeds": np.zeros((1, 32), np.float32)})[0]
    assert out.shape == (1, 8, 8, 8) and np.isfinite(out).all()


def test_image_encoder_contract_takes_the_image_processors_crop_size():
    # Kandinsky's CLIP sees 224 px; the micro model's tower sees 96 (tools/train/models.py).
    assert stage_contract("image_encoder", 32, 32).inputs == {"pixel_values": ["batch", 3, 224, 224]}
    assert stage_contract("image_encoder", 64, 64, crop_size=96).inputs == {"pixel_values": ["batch", 3, 96, 96]}


def test_tolerances_are_documented():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for (dtype, quant), tol in TOLERANCE.items():
        assert f"| {dtype} | {quant} | {tol:.0e} |" in readme, (dtype, quant)


def test_bad_arguments_say_what_to_do(tmp_path):
    from tools.export.cli import main

    with pytest.raises(SystemExit, match="give at least one of --prior"):
        main(["--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="not a folder"):
        main(["--out", str(tmp_path), "--prior", str(tmp_path / "missing")])
    torch.manual_seed(0)
