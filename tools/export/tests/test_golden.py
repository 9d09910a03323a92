"""Golden cases from the generator: SPEC §4 format, and the TypeScript engine's parity on them."""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tools.export.configs import REPO_ROOT

SHIPPED = REPO_ROOT / "tests/golden"
# --tolerance-scale for the parity runner per bundle variant (README, "Tolerances"): measured
# worst error / SPEC tolerance on these random weights, times about 2.
PARITY_SCALE = {"fp32": 1, "fp16": 300, "int8": 3000}


def signature(v):
    if isinstance(v, dict):
        if "dtype" in v and "shape" in v:
            return ("tensor", v["dtype"], len(v["shape"]), "b64" in v)
        return {k: signature(x) for k, x in v.items()}
    if isinstance(v, list):
        return [signature(v[0])] if v else []
    return type(v).__name__


def test_same_files_and_fields_as_the_shipped_cases(golden):
    ours = sorted(p.name for p in golden.glob("*.json"))
    assert ours == sorted(p.name for p in SHIPPED.glob("*.json"))
    for name in ours:
        a, b = json.loads((golden / name).read_text()), json.loads((SHIPPED / name).read_text())
        assert list(a) == list(b), name
        assert signature(a) == signature(b), name
        if "scheduler_config" in a:
            assert a["scheduler_config"] == b["scheduler_config"], name
        for key in ("num_inference_steps", "guidance_scale", "timesteps", "height", "width", "strength", "weights"):
            assert a.get(key) == b.get(key), (name, key)


def test_noise_and_steps_are_complete(golden):
    def arr(t):
        return np.frombuffer(base64.b64decode(t["b64"]), "<f4").reshape(t["shape"])

    t2i = json.loads((golden / "t2i_ddpm_64x64.json").read_text())
    # Initial latents, then one draw per step with t > 0 (DDPM fixed_small).
    assert len(t2i["noise"]) == 1 + sum(1 for t in t2i["timesteps"] if t > 0)
    assert [s["t"] for s in t2i["steps"]] == t2i["timesteps"]
    prior = json.loads((golden / "prior_neg_g4_s3.json").read_text())
    assert [n["shape"] for n in prior["noise"]] == [[2, 32]] * 3  # prompt + negative prompt in one batch
    image = arr(t2i["image"])
    assert image.shape == (1, 64, 64, 3) and image.min() >= 0 and image.max() <= 1
    cfg = json.loads((golden / "t2i_dpmpp_64x64.json").read_text())["scheduler_config"]
    assert cfg["lambda_min_clipped"] == "-Infinity"


def test_strict_json(golden):
    for p in golden.glob("*.json"):
        json.loads(p.read_text(), parse_constant=lambda c: pytest.fail(f"{p.name}: non-finite number {c}"))


def _parity(golden: Path, bundle: Path, scale: float) -> subprocess.CompletedProcess:
    npm = shutil.which("npm")
    assert npm, "npm is needed to run the TypeScript parity runner"
    return subprocess.run([npm, "run", "-s", "parity", "--", "--golden", str(golden), "--bundle", str(bundle),
                           "--ep", "wasm", "--tolerance-scale", str(scale)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize("variant", list(PARITY_SCALE))
def test_typescript_engine_passes_parity(golden, bundles, variant):
    r = _parity(golden, bundles[variant], PARITY_SCALE[variant])
    print(r.stdout)
    n = len(list(golden.glob("*.json")))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"parity: {n} passed, 0 failed" in r.stdout


def test_typescript_engine_passes_parity_on_the_extended_cases(checkpoints, bundles, tmp_path):
    """Cases the shipped set lacks (other sizes and schedulers per mode, guidance <= 1, negative prompts and
    weights, irregular masks), made by the generator for these weights: fp32 within SPEC tolerances."""
    from tools.export.golden import main

    assert main(["--bundle", str(bundles["fp32"]), "--prior", str(checkpoints["prior"]), "--decoder", str(checkpoints["decoder"]),
                 "--inpaint", str(checkpoints["inpaint"]), "--out", str(tmp_path), "--set", "extended"]) == 0
    r = _parity(tmp_path, bundles["fp32"], 1)
    print(r.stdout)
    n = len(list(tmp_path.glob("*.json")))
    assert n == 16
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"parity: {n} passed, 0 failed" in r.stdout
