"""A bundle's own linear prior: fitted with the bundle's encoders, written as .kwlp, read by the TypeScript engine."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import numpy as np

from tools.export.configs import REPO_ROOT
from tools.export.golden import test_image as picture
from tools.export.linear_prior import decode, main, ridge

TINY = REPO_ROOT / "public/models/tiny-kandinsky-2-2"


def test_ridge_matches_the_primal_solve_at_its_chosen_lambda():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(12, 20)), rng.normal(size=(12, 6))
    fit = ridge(X, Y)
    xm, ym = X.mean(0), Y.mean(0)
    Wt = np.linalg.solve((X - xm).T @ (X - xm) + fit["lambda"] * np.eye(20), (X - xm).T @ (Y - ym))
    assert np.allclose(fit["W"], Wt.T, atol=1e-10) and np.allclose(fit["b"], ym - xm @ Wt, atol=1e-10)
    same = ridge(np.repeat(X[:1], 12, 0), Y)  # one shared caption: W = 0, b = mean
    assert not same["W"].any() and np.allclose(same["b"], ym) and same["lambda"] == 0


def test_written_into_the_bundle_and_loaded_by_the_engine(tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(TINY, bundle)
    fit_set = tmp_path / "fit"
    fit_set.mkdir()
    images = [np.concatenate([picture(32, 32, k), np.full((32, 32, 1), 255, np.uint8)], -1) for k in range(6)]
    (fit_set / "images.rgba").write_bytes(b"".join(i.tobytes() for i in images))
    items = [{"caption": f"picture {k}"} for k in range(6)]
    (fit_set / "fit-set.json").write_text(json.dumps({"width": 32, "height": 32, "items": items}))
    assert main(["--bundle", str(bundle), "--fit-set", str(fit_set), "--name", "test prior"]) == 0
    manifest = json.loads((bundle / "manifest.json").read_text())
    data = (bundle / "linear_prior.kwlp").read_bytes()
    assert manifest["linear_prior"] == {"file": "linear_prior.kwlp", "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    header, W, b = decode(data)
    assert header["embedding_dim"] == header["text_dim"] == manifest["embedding_dim"] and W.shape == (32, 32) and b.shape == (32,)
    script = tmp_path / "check.mts"
    script.write_text(
        f"import {{ EngineService }} from {json.dumps(str(REPO_ROOT / 'workers/service.ts'))};\n"
        f"import {{ bundleDirBlobs }} from {json.dumps(str(REPO_ROOT / 'workers/testing/bundle-dir.ts'))};\n"
        "const s = new EngineService();\n"
        f"const r = await s.load({{ kind: 'files', files: await bundleDirBlobs({json.dumps(str(bundle))}) }}, {{ provider: 'wasm', verify: true }});\n"
        "console.log(JSON.stringify(r.ok ? r.value.linearPrior : r.error));\n")
    npx = shutil.which("npx")
    assert npx, "npx is needed to run the TypeScript engine"
    out = subprocess.run([npx, "tsx", str(script)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"name": "test prior", "textDim": 32, "embeddingDim": 32}
