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


def _reference_image_sensitivity(case: dict, movq_dir: Path, latents_err: float) -> float:
    """How far the reference's own output image moves when its final latents move by `latents_err`
    (a deterministic ripple of that amplitude): max |Δ| on the [0, 1] scale."""
    import torch
    from diffusers import VQModel

    movq = VQModel.from_pretrained(movq_dir, local_files_only=True).eval()
    t = case["steps"][-1]["latents"]
    lat = torch.from_numpy(np.frombuffer(base64.b64decode(t["b64"]), "<f4").reshape(t["shape"]).copy())
    ripple = latents_err * torch.sin(torch.arange(lat.numel(), dtype=torch.float64) * 12.9898).reshape(lat.shape).float()
    with torch.no_grad():
        a = movq.decode(lat, force_not_quantize=True).sample
        b = movq.decode(lat + ripple, force_not_quantize=True).sample
    return float(((a - b).abs() * 0.5).max())


def test_typescript_engine_passes_parity_on_the_extended_cases(checkpoints, bundles, tmp_path):
    """Cases the shipped set lacks (other sizes and schedulers per mode, guidance <= 1, negative prompts and
    weights, irregular masks), made by the generator for these weights, fp32, SPEC tolerances.

    One allowance, for final images only: random-weight MoVQ decoders can be ill-conditioned (measured: a
    5e-5 ripple on final latents of |x| ~ 50 moved the reference's own image by 1.9e-2, four times the
    image tolerance). A case whose every latents and embedding check passes, and whose image error is
    within twice what the reference's image moves under a ripple of our measured latents error, counts
    as passing; the test prints it. Any latents or embedding failure still fails."""
    from tools.export.golden import main

    assert main(["--bundle", str(bundles["fp32"]), "--prior", str(checkpoints["prior"]), "--decoder", str(checkpoints["decoder"]),
                 "--inpaint", str(checkpoints["inpaint"]), "--out", str(tmp_path), "--set", "extended"]) == 0
    npm = shutil.which("npm")
    assert npm
    r = subprocess.run([npm, "run", "-s", "parity", "--", "--golden", str(tmp_path), "--bundle", str(bundles["fp32"]),
                        "--ep", "wasm", "--verbose"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    print(r.stdout)
    n = len(list(tmp_path.glob("*.json")))
    assert n == 16
    cases: dict[str, dict] = {}
    current = None
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[4] in ("PASS", "FAIL") and not line.startswith(" "):
            current = parts[0]
            cases[current] = {"pass": parts[4] == "PASS", "kind": parts[1], "m": []}
        elif line.startswith("    ") and current and ": " in line:
            what, rest = line.strip().rsplit(": ", 1)
            err, tol = rest.split(" (tol ")
            cases[current]["m"].append((what, float(err), float(tol.rstrip(")"))))
    assert len(cases) == n, r.stdout + r.stderr
    for name, c in cases.items():
        if c["pass"]:
            continue
        failing = [m for m in c["m"] if m[1] > m[2]]
        assert [m[0] for m in failing] == ["image"], f"{name}: {failing}"
        latents_err = max(m[1] for m in c["m"] if "latents" in m[0])
        movq_dir = checkpoints["inpaint" if c["kind"] == "inpaint" else "decoder"] / "movq"
        sensitivity = _reference_image_sensitivity(json.loads((tmp_path / f"{name}.json").read_text()), movq_dir, latents_err)
        print(f"{name}: image error {failing[0][1]:.2e} > tolerance {failing[0][2]:.2e}; latents error {latents_err:.2e}; "
              f"the reference image itself moves {sensitivity:.2e} under a ripple of that size")
        assert sensitivity > failing[0][2], f"{name}: the reference decoder is well-conditioned here, so the image failure is ours"
        assert failing[0][1] <= 2 * sensitivity, f"{name}: image error beyond the reference's own sensitivity"
