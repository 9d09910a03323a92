"""Writes the analyser's test fixture: scenes drawn by the training generator itself (tools/train/data.py).

`python -m tools.eval.fixture` writes tools/eval/fixtures/datapy-64.json (the scene records) and
datapy-64.rgb.gz (their 64x64 RGB pixels, one after another), so the TypeScript analyser is tested on
exactly the pictures the micro model learns from.
"""
from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

from tools.train import data

OUT = Path(__file__).with_name("fixtures")
SIDE, COUNT, SEED = 64, 48, 20261204


def main() -> int:
    rng = random.Random(SEED)
    scenes, pixels = [], bytearray()
    for _ in range(COUNT):
        scene = data.sample_scene(rng)
        pixels += data.render(scene, SIDE, rng).tobytes()
        scenes.append(scene)
    OUT.mkdir(exist_ok=True)
    (OUT / "datapy-64.json").write_text(json.dumps({"side": SIDE, "seed": SEED, "scenes": scenes}, indent=1) + "\n", encoding="utf-8")
    (OUT / "datapy-64.rgb.gz").write_bytes(gzip.compress(bytes(pixels), mtime=0))
    print(f"wrote {COUNT} scenes to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
