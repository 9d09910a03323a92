"""Writes pillow_bicubic.json: Pillow BICUBIC resizes and transformers' PIL-backend CLIP preprocessing
of small synthetic images, the reference for workers/tensor/image.test.ts.

Run from the repository root with Pillow, numpy and transformers installed:
    python workers/tensor/testdata/make_pillow_fixture.py
"""
import base64
import hashlib
import json

import numpy as np
import PIL
import transformers
from PIL import Image
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

# Synthetic inputs; image.test.ts computes the same formulas.
def pattern(name, w, h):
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    if name == "noise":
        v = (x * 37 + y * 101 + c * 71 + ((x * y * 13) % 97) * 3) % 256
    elif name == "checker":
        v = ((x + y) % 2) * 255
    else:
        raise ValueError(name)
    return v.astype(np.uint8)


def golden_interpolate_image():
    g = json.load(open("tests/golden/interpolate.json"))
    t = g["conditions"][1]["image_rgb"]
    return np.array(t["data"], dtype=np.uint8).reshape(t["shape"])


def encode_u8(a):
    a = np.ascontiguousarray(a, dtype=np.uint8)
    if a.size <= 12000:
        return {"b64": base64.b64encode(a.tobytes()).decode()}
    return {"sha256": hashlib.sha256(a.tobytes()).hexdigest()}


resizes = []
for src, w, h, nw, nh in [
    ("noise", 17, 11, 7, 5),
    ("noise", 13, 9, 40, 23),
    ("noise", 31, 8, 12, 8),
    ("noise", 8, 31, 8, 77),
    ("checker", 16, 16, 37, 29),
    ("checker", 16, 16, 5, 3),
    ("noise", 200, 150, 9, 7),
    ("noise", 300, 200, 336, 224),
    ("golden:interpolate", 64, 64, 224, 224),
]:
    img = golden_interpolate_image() if src == "golden:interpolate" else pattern(src, w, h)
    out = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BICUBIC))
    resizes.append({"source": src, "width": w, "height": h, "new_width": nw, "new_height": nh, **encode_u8(out)})

clip = []
for src, w, h, size, crop in [("noise", 13, 9, 8, 6), ("noise", 9, 14, 6, 6), ("noise", 11, 7, 5, 7)]:
    img = pattern(src, w, h)
    proc = CLIPImageProcessorPil(size={"shortest_edge": size}, crop_size={"height": crop, "width": crop})
    pv = proc(images=Image.fromarray(img), return_tensors="np")["pixel_values"].astype("<f4")
    clip.append({
        "source": src, "width": w, "height": h, "size": size, "crop_size": crop,
        "mean": list(proc.image_mean), "std": list(proc.image_std),
        "shape": list(pv.shape), "b64": base64.b64encode(pv.tobytes()).decode(),
    })

json.dump(
    {"pillow": PIL.__version__, "transformers": transformers.__version__, "resize": resizes, "clip_pil": clip},
    open("workers/tensor/testdata/pillow_bicubic.json", "w"),
    indent=1,
)
