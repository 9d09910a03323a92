"""Kandinsky 2.1 (docs/kandinsky-2-1.md): tokenizer, tiny checkpoints, the version 2 bundle, its variants, goldens.

The tiny 2.1 checkpoints are rebuilt from their seeds (configs.build_checkpoints_21), exported by the
exporter, and must reproduce the shipped bundle (public/models/tiny-kandinsky-2-1) and the shipped golden
cases (tests/golden-2-1); the shipped bundle's graphs, run by diffusers' own 2.1 pipelines over onnxruntime,
must meet SPEC §4's wasm tolerances on every decoder case.
"""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from tools.export.configs import REPO_ROOT, XLMR_TOKENIZER_JSON

SHIPPED = REPO_ROOT / "public/models/tiny-kandinsky-2-1"
GOLDEN = REPO_ROOT / "tests/golden-2-1"
# SPEC §4, wasm column: embeddings scale with max(1, max|ref|); latents and images are absolute.
EMBEDDING_TOL, LATENTS_TOL, IMAGE_TOL = 1e-4, 1e-3, 5e-3


def _arr(t: dict) -> np.ndarray:
    if "b64" in t:
        return np.frombuffer(base64.b64decode(t["b64"]), "<f4").reshape(t["shape"])
    return np.asarray(t["data"], np.int64).reshape(t["shape"])


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def _export(checkpoints: dict, out: Path, dtype: str = "fp32", quant: str = "none", *extra: str) -> int:
    from tools.export.cli import main

    return main(["--out", str(out), "--dtype", dtype, "--quantize", quant, "--prior", str(checkpoints["prior"]),
                 "--decoder", str(checkpoints["decoder"]), "--inpaint", str(checkpoints["inpaint"]), *extra])


@pytest.fixture(scope="module")
def k21_checkpoints(tmp_path_factory) -> dict[str, Path]:
    from tools.export.configs import build_checkpoints_21

    return build_checkpoints_21(tmp_path_factory.mktemp("k21-checkpoints"))


@pytest.fixture(scope="module")
def k21_bundle(k21_checkpoints, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("k21-bundle")
    # --no-surgery: the shipped bundle predates surgery.py (test_rebuilt_checkpoints_export_the_shipped_bundle)
    assert _export(k21_checkpoints, out, "fp32", "none", "--name", "tiny-random-kandinsky-2-1", "--no-surgery") == 0
    return out


# ---------------------------------------------------------------- tokenizer


def test_tokenizer_is_deterministic_and_the_committed_one():
    from tools.export.xlmr_tokenizer import build

    first, second = build(), build()
    assert first == second
    assert first == XLMR_TOKENIZER_JSON.read_text(encoding="utf-8"), "data/xlmr_tokenizer.json is stale: rebuild it"
    tok = json.loads(first)
    vocab = [p for p, _ in tok["model"]["vocab"]]
    assert vocab[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and tok["model"]["unk_id"] == 3
    assert [(a["content"], a["id"]) for a in tok["added_tokens"]][-1] == ("<mask>", len(vocab))  # the last id
    assert any(any("\u0400" <= ch <= "\u04ff" for ch in p) for p in vocab[4:]) and any(p.isascii() and p.isalpha() and len(p) > 3 for p in vocab)


def test_tokenizer_is_what_transformers_loads_and_the_bundle_ships(tmp_path):
    """transformers 5 rebuilds XLM-R's backend from the file (xlmr_tokenizer.py): the file is a fixed point, so the
    bundle's copy is what the reference tokenises with."""
    from transformers import AutoTokenizer

    from tools.export.xlmr_tokenizer import fast_tokenizer

    fast_tokenizer(XLMR_TOKENIZER_JSON).save_pretrained(tmp_path)
    backend = AutoTokenizer.from_pretrained(tmp_path).backend_tokenizer
    backend.no_padding()
    backend.no_truncation()
    committed = json.loads(XLMR_TOKENIZER_JSON.read_text())
    assert json.loads(backend.to_str()) == committed
    assert json.loads((SHIPPED / "tokenizer_multilingual/tokenizer.json").read_text()) == committed


def test_multilingual_tokenizer_golden_in_python_and_javascript():
    """The bundle's tokenizer.json gives the golden ids with the `tokenizers` library and with
    @huggingface/tokenizers (the engine's), before padding/truncation, which the case shows."""
    from tokenizers import Tokenizer

    case = json.loads((GOLDEN / "tokenizer_multilingual.json").read_text())
    assert case["family"] == "kandinsky-2.1" and case["tokenizer"] == "multilingual"
    path = SHIPPED / "tokenizer_multilingual/tokenizer.json"
    tok = Tokenizer.from_file(str(path))
    raw = [tok.encode(c["prompt"]).ids for c in case["cases"]]
    for c, ids in zip(case["cases"], raw):
        n = sum(c["attention_mask"])
        want = ids if len(ids) <= 77 else ids[:76] + [2]  # truncation keeps </s>
        assert c["input_ids"][:n] == want and n == len(want), c["prompt"]
        assert c["input_ids"][n:] == [1] * (77 - n) and len(c["input_ids"]) == 77
    assert any(len(ids) > 77 for ids in raw) and any(any(0x400 <= ord(ch) < 0x500 for ch in c["prompt"]) for c in case["cases"])
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is needed for the @huggingface/tokenizers check")
    script = ("import { Tokenizer } from '@huggingface/tokenizers'; import fs from 'fs';"
              f"const t = new Tokenizer(JSON.parse(fs.readFileSync({json.dumps(str(path))}, 'utf8')), {{}});"
              "const prompts = JSON.parse(fs.readFileSync(0, 'utf8'));"
              "console.log(JSON.stringify(prompts.map((p) => Array.from(t.encode(p).ids))));")
    r = subprocess.run([node, "--input-type=module", "-e", script], input=json.dumps([c["prompt"] for c in case["cases"]]),
                       cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == raw


# ---------------------------------------------------------------- bundle


def test_family_detection_and_mixed_folders(k21_checkpoints, checkpoints_22_index, tmp_path):
    from tools.export import bundle
    from tools.export.cli import main

    assert bundle.detect_family(k21_checkpoints) == "kandinsky-2.1"
    assert bundle.detect_family({"prior": checkpoints_22_index}) == "kandinsky-2.2"
    with pytest.raises(SystemExit, match="different families"):
        bundle.detect_family({"prior": checkpoints_22_index, "decoder": k21_checkpoints["decoder"]})
    with pytest.raises(SystemExit, match="not a kandinsky-2.2 stage"):
        main(["--out", str(tmp_path / "x"), "--prior", str(checkpoints_22_index), "--stages", "text_encoder_multilingual"])


@pytest.fixture
def checkpoints_22_index(tmp_path) -> Path:
    """A folder whose model_index.json says Kandinsky 2.2 (nothing else is read by detect_family)."""
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "KandinskyV22PriorPipeline"}))
    return tmp_path


def test_manifest_is_version_2_with_the_contract_stages(k21_bundle):
    m = _manifest(k21_bundle)
    assert (m["format"], m["version"], m["family"]) == ("kandinsky-onnx-bundle", 2, "kandinsky-2.1")
    assert m["text"] == {"max_length": 77, "tokenizer": "tokenizer/tokenizer.json"}
    assert m["text_multilingual"] == {"max_length": 77, "tokenizer": "tokenizer_multilingual/tokenizer.json"}
    assert list(m["stages"]) == ["text_encoder", "image_encoder", "prior", "text_encoder_multilingual", "unet",
                                 "unet_inpaint", "movq_encoder", "movq_decoder"]
    s = m["stages"]
    assert s["text_encoder_multilingual"]["inputs"] == {"input_ids": ["batch", 77], "attention_mask": ["batch", 77]}
    assert s["text_encoder_multilingual"]["outputs"] == {"text_embeds": ["batch", 32], "last_hidden_state": ["batch", 77, 48]}
    for name, ch in (("unet", 4), ("unet_inpaint", 9)):
        assert s[name]["inputs"] == {"sample": ["batch", ch, "height", "width"], "timestep": ["batch"],
                                     "encoder_hidden_states": ["batch", 77, 48], "text_embeds": ["batch", 32],
                                     "image_embeds": ["batch", 32]}
        assert s[name]["outputs"] == {"out_sample": ["batch", 8, "height", "width"]}
    assert m["schedulers"]["decoder"]["_class_name"] == "DDIMScheduler"
    assert m["schedulers"]["decoder"]["set_alpha_to_one"] is False and m["schedulers"]["decoder"]["steps_offset"] == 1
    assert set(m["scheduler_alternatives"]) == {"ddpm", "dpmpp_2m"}
    assert m["scheduler_alternatives"]["ddpm"]["variance_type"] == "fixed_small"
    for name, entry in s.items():
        graph = onnx.load(str(k21_bundle / entry["file"])).graph
        assert [i.name for i in graph.input] == list(entry["inputs"]), name
        assert [o.name for o in graph.output] == list(entry["outputs"]), name
    assert json.loads((k21_bundle / "tokenizer_multilingual/tokenizer_config.json").read_text())["pad_token"] == "<pad>"


def test_rebuilt_checkpoints_export_the_shipped_bundle(k21_bundle):
    """Same manifest (but file hashes), same graphs and weights as public/models/tiny-kandinsky-2-1."""
    ours, shipped = _manifest(k21_bundle), _manifest(SHIPPED)

    def strip(m):
        return {**{k: v for k, v in m.items() if k not in ("stages", "description")},
                "stages": {k: {f: x for f, x in e.items() if f not in ("bytes", "sha256")} for k, e in m["stages"].items()}}

    assert strip(ours) == strip(shipped)
    for name, entry in shipped["stages"].items():
        a, b = onnx.load(str(k21_bundle / entry["file"])).graph, onnx.load(str(SHIPPED / entry["file"])).graph
        assert [n.op_type for n in a.node] == [n.op_type for n in b.node], name
        wa = {t.name: numpy_helper.to_array(t) for t in a.initializer}
        wb = {t.name: numpy_helper.to_array(t) for t in b.initializer}
        assert wa.keys() == wb.keys(), name
        for k in wa:
            np.testing.assert_allclose(wa[k], wb[k], rtol=0, atol=1e-6, err_msg=f"{name}: {k}")
    assert json.loads((k21_bundle / "prior_stats.json").read_text()) == json.loads((SHIPPED / "prior_stats.json").read_text())


def test_2_2_folders_still_give_a_version_1_bundle():
    from tools.export import bundle
    from tools.export.stages import STAGE_NAMES, stage_contract

    assert bundle.VERSION == 1 and bundle.detect_family({"prior": None}) == "kandinsky-2.2"
    assert stage_contract("unet", 32, 32).inputs == {"sample": ["batch", 4, "height", "width"], "timestep": ["batch"],
                                                     "image_embeds": ["batch", 32]}
    assert "text_encoder_multilingual" not in STAGE_NAMES


# ---------------------------------------------------------------- variants


@pytest.mark.parametrize("dtype,quant", [("fp16", "none"), ("fp32", "int4")])
def test_precision_variants_export_verify_and_load(k21_checkpoints, tmp_path, dtype, quant):
    """fp16 and int4 of the 2.1-only stages through the exporter (its ORT-vs-PyTorch check included), and the
    same variant derived from the shipped fp32 bundle (tools.export.variant) loads and runs in onnxruntime."""
    import onnxruntime as ort

    from tools.export.variant import derive

    assert _export(k21_checkpoints, tmp_path / "exported", dtype, quant, "--stages", "text_encoder_multilingual", "unet") == 0
    m = _manifest(tmp_path / "exported")
    assert set(m["stages"]) == {"text_encoder_multilingual", "unet"} and m["version"] == 2
    assert m["precision"] == {"dtype": dtype, "quantize": quant, "requires_shader_f16": dtype == "fp16"}
    derived = derive(SHIPPED, tmp_path / "derived", dtype, quant)
    assert derived["family"] == "kandinsky-2.1" and derived["text_multilingual"] == _manifest(SHIPPED)["text_multilingual"]
    assert (tmp_path / "derived/tokenizer_multilingual/tokenizer.json").read_bytes() == (SHIPPED / "tokenizer_multilingual/tokenizer.json").read_bytes()
    for folder in (tmp_path / "exported", tmp_path / "derived"):
        ops = {n.op_type for n in onnx.load(str(folder / "unet.onnx")).graph.node}
        assert ("MatMulNBits" in ops) == (quant == "int4"), folder
        text = ort.InferenceSession(str(folder / "text_encoder_multilingual.onnx"), providers=["CPUExecutionProvider"])
        ids = np.ones((2, 77), np.int64)
        ids[:, :4] = [[0, 26, 120, 2], [0, 2, 1, 1]]
        mask = (np.arange(77)[None] < np.array([[4], [2]])).astype(np.int64)
        embeds, hidden = text.run(None, {"input_ids": ids, "attention_mask": mask})
        assert embeds.shape == (2, 32) and hidden.shape == (2, 77, 48) and np.isfinite(hidden).all()
        unet = ort.InferenceSession(str(folder / "unet.onnx"), providers=["CPUExecutionProvider"])
        (out,) = unet.run(None, {"sample": np.zeros((2, 4, 8, 8), np.float32), "timestep": np.array([999.0, 1.0], np.float32),
                                 "encoder_hidden_states": hidden.astype(np.float32), "text_embeds": embeds.astype(np.float32),
                                 "image_embeds": np.ones((2, 32), np.float32)})
        assert out.shape == (2, 8, 8, 8) and np.isfinite(out).all()


# ---------------------------------------------------------------- goldens


def _compare(ours, ref, path: str, failures: list):
    """Every tensor of a case against the shipped one, SPEC §4 tolerances by quantity."""
    if isinstance(ref, dict) and "dtype" in ref and "shape" in ref:
        a, b = _arr(ours), _arr(ref)
        assert a.shape == b.shape, path
        if ref["dtype"] == "int64":
            assert np.array_equal(a, b), path
            return
        err = float(np.abs(a.astype(np.float64) - b).max()) if a.size else 0.0
        tol = (IMAGE_TOL if path.endswith("image") or "decoded" in path or "roundtrip" in path
               else LATENTS_TOL if "latents" in path or "noise" in path
               else EMBEDDING_TOL * max(1.0, float(np.abs(b).max())))
        if err > tol:
            failures.append(f"{path}: {err:.3e} > {tol:.1e}")
    elif isinstance(ref, dict):
        assert list(ours) == list(ref), path
        for k in ref:
            _compare(ours[k], ref[k], f"{path}.{k}", failures)
    elif isinstance(ref, list):
        assert len(ours) == len(ref), path
        for i, (a, b) in enumerate(zip(ours, ref)):
            _compare(a, b, f"{path}[{i}]", failures)
    else:
        assert ours == ref, path


def test_rebuilt_checkpoints_reproduce_the_shipped_goldens(k21_checkpoints, k21_bundle, tmp_path):
    from tools.export.golden import main

    assert main(["--bundle", str(k21_bundle), "--prior", str(k21_checkpoints["prior"]), "--decoder", str(k21_checkpoints["decoder"]),
                 "--inpaint", str(k21_checkpoints["inpaint"]), "--out", str(tmp_path)]) == 0
    names = sorted(p.name for p in GOLDEN.glob("*.json"))
    assert sorted(p.name for p in tmp_path.glob("*.json")) == names and len(names) == 17
    failures: list[str] = []
    for name in names:
        ours, ref = json.loads((tmp_path / name).read_text()), json.loads((GOLDEN / name).read_text())
        assert ref["family"] == "kandinsky-2.1", name
        _compare(ours, ref, name, failures)
    assert not failures, "\n".join(failures)


def test_golden_cases_follow_the_contract():
    kinds = {}
    for p in GOLDEN.glob("*.json"):
        c = json.loads(p.read_text(), parse_constant=lambda x: pytest.fail(f"{p.name}: non-finite {x}"))
        kinds.setdefault(c["kind"], []).append(c)
    assert sorted(kinds) == ["image_encoder", "img2img", "inpaint", "interpolate", "movq", "prior", "text2img",
                             "text_encoder", "text_encoder_multilingual", "tokenizer"]
    t2i = kinds["text2img"]
    assert {c["scheduler"] for c in t2i} == {"ddim", "ddpm", "dpmpp"} and {c["scheduler"] for c in kinds["img2img"]} == {"ddim", "dpmpp"}
    assert any(c["width"] != c["height"] for c in t2i) and any(c["guidance_scale"] == 1.0 for c in t2i)
    assert any(c["negative_prompt"] for c in t2i) and any(any(0x400 <= ord(ch) < 0x500 for ch in c["prompt"]) for c in t2i)
    assert {c["negative_prompt"] is None for c in kinds["prior"]} == {True, False}
    for c in t2i + kinds["img2img"] + kinds["inpaint"]:
        b = 2 if c["guidance_scale"] > 1 else 1
        assert c["prompt_embeds"]["shape"] == [b, 32] and c["text_encoder_hidden_states"]["shape"] == [b, 77, 48]
        assert [s["t"] for s in c["steps"]] == (c.get("timesteps") or [s["t"] for s in c["steps"]])
    for c in kinds["img2img"]:
        # KandinskyImg2ImgPipeline: one noise draw for add_noise at int(1000 * strength) - 2, then the kept timesteps.
        assert c["latent_timestep"] == int(1000 * c["strength"]) - 2
        assert len(c["steps"]) == min(int(c["num_inference_steps"] * c["strength"]), c["num_inference_steps"])
    ddim = next(c for c in t2i if c["scheduler"] == "ddim")
    assert len(ddim["noise"]) == 1 and ddim["scheduler_config"]["_class_name"] == "DDIMScheduler"


def test_shipped_bundle_replays_the_decoder_goldens_in_onnxruntime():
    """diffusers' KandinskyPipeline / Img2Img / Inpaint over the shipped bundle's graphs and tokenizer, fed each
    case's recorded noise (onnx_sources.replay_case): SPEC §4's wasm tolerances."""
    from tools.export.onnx_sources import OnnxSources21, replay_case

    src = OnnxSources21(SHIPPED)
    checked, failures = 0, []
    for p in sorted(GOLDEN.glob("*.json")):
        case = json.loads(p.read_text())
        if case["kind"] not in ("text2img", "img2img", "inpaint"):
            continue
        errors = replay_case(src, case)
        scale = max(1.0, float(np.abs(_arr(case["text_encoder_hidden_states"])).max()))
        tol = {"prompt_embeds": EMBEDDING_TOL * scale, "text_encoder_hidden_states": EMBEDDING_TOL * scale,
               "latents": LATENTS_TOL, "image": IMAGE_TOL}
        print(p.stem, {k: f"{v:.2e}" for k, v in errors.items()})
        failures += [f"{p.stem} {k}: {v:.3e} > {tol[k]:.1e}" for k, v in errors.items() if v > tol[k]]
        checked += 1
    assert checked == 8 and not failures, failures


def test_shipped_bundle_text_encoder_multilingual_matches_the_golden():
    import onnxruntime as ort

    case = json.loads((GOLDEN / "text_encoder_multilingual.json").read_text())
    sess = ort.InferenceSession(str(SHIPPED / "text_encoder_multilingual.onnx"), providers=["CPUExecutionProvider"])
    for c in case["cases"]:
        embeds, hidden = sess.run(None, {"input_ids": _arr(c["input_ids"]), "attention_mask": _arr(c["attention_mask"])})
        for got, key in ((embeds, "text_embeds"), (hidden, "last_hidden_state")):
            ref = _arr(c[key])
            assert np.abs(got - ref).max() <= EMBEDDING_TOL * max(1.0, float(np.abs(ref).max())), (c["prompt"], key)


def test_shipped_bundle_replays_the_prior_goldens_in_onnxruntime():
    """diffusers' KandinskyPriorPipeline (and its interpolate) over the shipped bundle's CLIP and prior graphs."""
    from tools.export.onnx_sources import replay_prior_case

    checked = 0
    for p in sorted(GOLDEN.glob("*.json")):
        case = json.loads(p.read_text())
        if case["kind"] not in ("prior", "interpolate"):
            continue
        for key, err in replay_prior_case(SHIPPED, case).items():
            ref = _arr(case[key])
            assert err <= EMBEDDING_TOL * max(1.0, float(np.abs(ref).max())), (p.stem, key, err)
        checked += 1
    assert checked == 3


def test_shipped_bundle_encoders_and_movq_match_the_goldens():
    import onnxruntime as ort

    def session(stage):
        return ort.InferenceSession(str(SHIPPED / f"{stage}.onnx"), providers=["CPUExecutionProvider"])

    def close(got, ref, tol=None):
        ref = _arr(ref)
        tol = EMBEDDING_TOL * max(1.0, float(np.abs(ref).max())) if tol is None else tol
        assert got.shape == ref.shape and np.abs(got - ref).max() <= tol, (float(np.abs(got - ref).max()), tol)

    text = session("text_encoder")
    for c in json.loads((GOLDEN / "text_encoder.json").read_text())["cases"]:
        embeds, hidden = text.run(None, {"input_ids": _arr(c["input_ids"])})
        close(embeds, c["text_embeds"])
        close(hidden, c["last_hidden_state"])
    img = json.loads((GOLDEN / "image_encoder.json").read_text())
    image = session("image_encoder")
    close(image.run(None, {"pixel_values": _arr(img["pixel_values"])})[0], img["image_embeds"])
    close(image.run(None, {"pixel_values": np.zeros((1, 3, 224, 224), np.float32)})[0], img["zero_image_embeds"])
    mv = json.loads((GOLDEN / "movq.json").read_text())
    encoded = session("movq_encoder").run(None, {"image": _arr(mv["image_in"])})[0]
    close(encoded, mv["encoded"], LATENTS_TOL)
    close(session("movq_decoder").run(None, {"latents": _arr(mv["latents"])})[0], mv["decoded"], IMAGE_TOL)
