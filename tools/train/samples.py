"""`python -m tools.train.samples --ckpt OUT --png FILE`: pictures of trained checkpoints in PyTorch.

Runs the diffusers Kandinsky 2.2 pipelines (prior, text-to-image, inpainting) at the native size on
a few held-out captions in English and Russian (rows 1-2), then an inpainted hole, an outpainted
strip and a variation of a rendered scene, each after its input (row 3), and writes one PNG grid. It also prints a rough
self-check (is the requested colour the nearest palette colour to the pixels that differ most from
the background, and does their centroid fall in the requested cell): a training-time sanity
figure only; the held-out evaluation proper is the semantic analyser's.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from . import data
from .models import NATIVE_SIZE

PALETTE = {c: np.array(data.hex_rgb(v["hex"]), float) for c, v in data.VOCAB["colors"].items()}


def rough_check(img: np.ndarray, scene: dict) -> tuple[bool, bool]:
    """(colour ok, cell ok) for the scene's first object, by a crude background-difference mask."""
    bg = np.array(data.hex_rgb(data.VOCAB["backgrounds"][scene["background"]]["hex"]), float)
    f = img.astype(float)
    d = np.linalg.norm(f - bg, axis=-1)
    m = d > max(60.0, np.percentile(d, 90))
    if m.sum() < 4:
        return False, False
    mean = f[m].mean(0)
    color = min(PALETTE, key=lambda c: np.linalg.norm(PALETTE[c] - mean) if c != scene["background"] else 1e9)
    ys, xs = np.nonzero(m)
    side = img.shape[0]
    col, row = data.VOCAB["positions"][scene["objects"][0]["position"]]["cell"]
    return color == scene["objects"][0]["color"], (int(xs.mean() * 3 // side), int(ys.mean() * 3 // side)) == (col, row)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.train.samples", description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", type=Path, required=True, help="the training output folder (prior/, decoder/, inpaint/)")
    p.add_argument("--png", type=Path, required=True)
    p.add_argument("--n", type=int, default=40, help="held-out scenes for the rough check")
    p.add_argument("--steps", type=int, default=25)
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    from diffusers import KandinskyV22InpaintPipeline, KandinskyV22Pipeline, KandinskyV22PriorPipeline

    prior = KandinskyV22PriorPipeline.from_pretrained(a.ckpt / "prior")
    dec = KandinskyV22Pipeline.from_pretrained(a.ckpt / "decoder")
    held = data.heldout()[: a.n]
    rows, score = [], {"en": [0, 0], "ru": [0, 0]}
    for lang in ("en", "ru"):
        caps = [e["captions"][lang][0] for e in held]
        g = torch.Generator().manual_seed(0)
        emb = prior(caps, num_inference_steps=a.steps, generator=g)
        imgs = dec(image_embeds=emb.image_embeds, negative_image_embeds=emb.negative_image_embeds, height=NATIVE_SIZE,
                   width=NATIVE_SIZE, num_inference_steps=a.steps, generator=torch.Generator().manual_seed(1),
                   output_type="np").images
        imgs = (imgs * 255).round().astype(np.uint8)
        for e, im in zip(held, imgs):
            c, pos = rough_check(im, e["scene"])
            score[lang][0] += c
            score[lang][1] += pos
        rows.append(np.concatenate(list(imgs[:10]), 1))
        for e, cap in list(zip(held, caps))[:10]:
            print(f"{lang}: {cap}")
    # Inpainting: refill the centre of the first English picture with "a green square in the center".
    inp = KandinskyV22InpaintPipeline.from_pretrained(a.ckpt / "inpaint")
    base = rows[0][:, :NATIVE_SIZE]
    mask = np.zeros((NATIVE_SIZE, NATIVE_SIZE), np.float32)
    q = NATIVE_SIZE // 4
    mask[q:3 * q, q:3 * q] = 1
    emb = prior("a large green square in the center", num_inference_steps=a.steps, generator=torch.Generator().manual_seed(2))
    out = inp(image=Image.fromarray(base), mask_image=mask, image_embeds=emb.image_embeds,
              negative_image_embeds=emb.negative_image_embeds, height=NATIVE_SIZE, width=NATIVE_SIZE,
              num_inference_steps=a.steps, generator=torch.Generator().manual_seed(3), output_type="np").images
    inpainted = (out[0] * 255).round().astype(np.uint8)
    # Outpainting: keep the left two thirds of the second English picture, fill the right third.
    src = rows[0][:, NATIVE_SIZE:2 * NATIVE_SIZE]
    strip = np.zeros((NATIVE_SIZE, NATIVE_SIZE), np.float32)
    strip[:, 2 * NATIVE_SIZE // 3:] = 1
    cut = src.copy()
    cut[:, 2 * NATIVE_SIZE // 3:] = 0
    emb = prior(held[1]["captions"]["en"][0], num_inference_steps=a.steps, generator=torch.Generator().manual_seed(4))
    out = inp(image=Image.fromarray(cut), mask_image=strip, image_embeds=emb.image_embeds,
              negative_image_embeds=emb.negative_image_embeds, height=NATIVE_SIZE, width=NATIVE_SIZE,
              num_inference_steps=a.steps, generator=torch.Generator().manual_seed(5), output_type="np").images
    outpainted = (out[0] * 255).round().astype(np.uint8)
    # Variation: the CLIP image embedding of a rendered held-out scene, decoded.
    from .train import _images, clip_pixels

    ref = data.render(held[5]["scene"], NATIVE_SIZE, __import__("random").Random(6))
    with torch.no_grad():
        ie = prior.image_encoder(pixel_values=clip_pixels(_images([{"image": ref}]))).image_embeds
        s = prior.image_encoder.config.image_size
        zero = prior.image_encoder(pixel_values=torch.zeros(1, 3, s, s)).image_embeds
    var = dec(image_embeds=ie, negative_image_embeds=zero, height=NATIVE_SIZE, width=NATIVE_SIZE,
              num_inference_steps=a.steps, generator=torch.Generator().manual_seed(7), output_type="np").images
    variation = (var[0] * 255).round().astype(np.uint8)
    extra = np.concatenate([base, inpainted, cut, outpainted, ref, variation] + [np.zeros_like(base)] * 4, 1)
    grid = np.concatenate(rows + [extra], 0)
    Image.fromarray(grid).resize((grid.shape[1] * 2, grid.shape[0] * 2), Image.Resampling.NEAREST).save(a.png)
    res = {lang: {"colour": s[0] / len(held), "cell": s[1] / len(held)} for lang, s in score.items()}
    print(json.dumps({"rough_check_heldout": res, "n": len(held), "steps": a.steps}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
