"""A bundle's own linear prior (README "Prior kinds"): fit it on images and captions, write it into the bundle.

    python -m tools.export.linear_prior --bundle DIR --fit-set DIR [--name NAME]

The fit set is what `python -m tools.ablation.fit_set` writes (fit-set.json with {"width", "height",
"items": [{"caption"}]} and images.rgba). The bundle's own ONNX text and image encoders (onnxruntime,
CPU) embed the captions and images, exactly as the engine's fit does in the browser; W and b are the
ridge solution with an unpenalised intercept in the diffusion prior's normalised image space, λ chosen
by closed-form leave-one-out error over the engine's grid. Writes `linear_prior.kwlp` (the format of
workers/priors/file.ts) beside the manifest and adds `"linear_prior": {file, bytes, sha256}` to it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import struct
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .bundle import read_json, write_json

MAGIC = b"KWLP"
SPACE = "text_embeds->normalised_image_embeds"


def encode(header: dict, W: np.ndarray, b: np.ndarray) -> bytes:
    """The .kwlp bytes: magic, uint32 version, uint32 header length, JSON header, padding to 4, float32 W and b."""
    h = json.dumps(header, ensure_ascii=False).encode("utf-8")
    pad = (4 - (12 + len(h)) % 4) % 4
    return (MAGIC + struct.pack("<II", 1, len(h)) + h + b"\0" * pad
            + np.ascontiguousarray(W, "<f4").tobytes() + np.ascontiguousarray(b, "<f4").tobytes())


def decode(data: bytes) -> tuple[dict, np.ndarray, np.ndarray]:
    if data[:4] != MAGIC:
        raise ValueError("not a linear prior file")
    version, n = struct.unpack("<II", data[4:12])
    if version != 1:
        raise ValueError(f"version {version}")
    header = json.loads(data[12:12 + n].decode("utf-8"))
    start = 12 + n + (4 - (12 + n) % 4) % 4
    d, t = header["embedding_dim"], header["text_dim"]
    values = np.frombuffer(data[start:], "<f4")
    if values.size != d * t + d:
        raise ValueError(f"{values.size} values for {d}×{t} + {d}")
    return header, values[:d * t].reshape(d, t), values[d * t:]


def ridge(X: np.ndarray, Y: np.ndarray) -> dict:
    """Dual ridge with intercept; λ from 10^(-4 + k/2) · trace(K)/n, k = 0..12, by exact leave-one-out error."""
    n = len(X)
    xm, ym = X.mean(0), Y.mean(0)
    Xc, Yc = X - xm, Y - ym
    K = Xc @ Xc.T
    baseline = float(np.mean(Yc**2) * (n / (n - 1)) ** 2)
    if np.trace(K) <= 1e-24 * n * (1 + xm @ xm):
        return {"W": np.zeros((Y.shape[1], X.shape[1])), "b": ym, "lambda": 0.0, "loo": baseline, "baseline": baseline}
    best = None
    for k in range(13):
        lam = 10 ** (-4 + k / 2) * np.trace(K) / n
        inv = np.linalg.inv(K + lam * np.eye(n))
        A = inv @ Yc
        h = 1 / n + 1 - lam * np.diag(inv)
        loo = float(np.mean(((lam * A) / (1 - h)[:, None]) ** 2))
        if best is None or loo < best["loo"]:
            best = {"lambda": float(lam), "loo": loo, "A": A}
    W = (Xc.T @ best["A"]).T
    return {"W": W, "b": ym - W @ xm, "lambda": best["lambda"], "loo": best["loo"], "baseline": baseline}


def embed(bundle: Path, captions: list[str], images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Raw text_embeds of the captions and normalised image embeddings, through the bundle's own stages."""
    import torch
    from PIL import Image

    from .onnx_sources import OnnxSources

    src = OnnxSources(bundle)
    with torch.no_grad():
        X = np.concatenate([src.text_encoder(src.tokenizer([c], padding="max_length", max_length=77, truncation=True,
                                                             return_tensors="pt").input_ids).text_embeds.numpy() for c in captions])
        Y = np.concatenate([src.image_encoder(src.image_processor(Image.fromarray(im), return_tensors="pt").pixel_values).image_embeds.numpy()
                            for im in images])
    mean, std = src.prior.clip_mean.numpy().reshape(-1), src.prior.clip_std.numpy().reshape(-1)
    return X.astype(np.float64), ((Y - mean) / std).astype(np.float64)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.export.linear_prior", description=__doc__.splitlines()[0])
    p.add_argument("--bundle", required=True, type=Path)
    p.add_argument("--fit-set", required=True, type=Path)
    p.add_argument("--name", default=None)
    a = p.parse_args(argv)
    meta = json.loads((a.fit_set / "fit-set.json").read_text())
    w, h = meta["width"], meta["height"]
    raw = np.frombuffer((a.fit_set / "images.rgba").read_bytes(), np.uint8).reshape(-1, h, w, 4)
    if len(raw) != len(meta["items"]):
        raise SystemExit(f"{len(raw)} images for {len(meta['items'])} items in {a.fit_set}")
    captions = [it["caption"] for it in meta["items"]]
    X, Y = embed(a.bundle, captions, [im[..., :3] for im in raw])
    fit = ridge(X, Y)
    manifest = read_json(a.bundle / "manifest.json")
    header = {"format": "kandinsky-linear-prior", "version": 1, "name": a.name or f"{manifest['name']} linear prior",
              "family": manifest["family"], "embedding_dim": Y.shape[1], "text_dim": X.shape[1], "space": SPACE,
              "lambda": fit["lambda"], "loo_error": fit["loo"], "baseline_error": fit["baseline"], "num_images": len(captions),
              "captions": "shared" if len(set(captions)) == 1 else "per-image",
              "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    data = encode(header, fit["W"], fit["b"])
    (a.bundle / "linear_prior.kwlp").write_bytes(data)
    manifest["linear_prior"] = {"file": "linear_prior.kwlp", "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    write_json(a.bundle / "manifest.json", manifest)
    print(f"wrote {a.bundle / 'linear_prior.kwlp'} ({len(data)} bytes): {len(captions)} images, λ {fit['lambda']:.3g}, "
          f"leave-one-out error {fit['loo']:.3g} (mean-only {fit['baseline']:.3g})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
