"""Fit sets for the prior ablation (README "Prior kinds"): training scenes of the micro Kandinsky as raw RGBA.

    python -m tools.ablation.fit_set --out DIR [--n 500] [--seed 7] [--side 64] [--only-shape circle]

Writes DIR/fit-set.json ({"width", "height", "items": [{"caption", "scene"}]}) and DIR/images.rgba (the
images, RGBA uint8, in item order), drawn by tools/train/data.py (the training data generator) from a
seed that is not the training run's. `--only-shape` keeps scenes whose objects all have that shape: the
"cat prior" set of the paper's Figure 5, one scene type with its own captions.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    from tools.train import data

    p = argparse.ArgumentParser(prog="python -m tools.ablation.fit_set", description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--side", type=int, default=64)
    p.add_argument("--lang", default="en")
    p.add_argument("--only-shape")
    a = p.parse_args(argv)
    items, images = [], []
    batch = 0
    while len(items) < a.n:
        for e in data.dataset(max(a.n, 64), a.seed + 1000 * batch, a.side, 1):
            if a.only_shape and any(o["shape"] != a.only_shape for o in e["scene"]["objects"]):
                continue
            rgba = np.concatenate([e["image"], np.full(e["image"].shape[:2] + (1,), 255, np.uint8)], -1)
            images.append(np.ascontiguousarray(rgba, dtype=np.uint8))
            items.append({"caption": e["captions"][a.lang][0], "scene": e["scene"]})
            if len(items) == a.n:
                break
        batch += 1
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "images.rgba").write_bytes(b"".join(i.tobytes() for i in images))
    (a.out / "fit-set.json").write_text(json.dumps({"width": a.side, "height": a.side, "items": items}, ensure_ascii=False))
    print(f"wrote {len(items)} scenes to {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
