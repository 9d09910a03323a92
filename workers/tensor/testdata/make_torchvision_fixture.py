"""Writes torchvision_bicubic.json: torchvision's antialiased BICUBIC resize of uint8 images and
transformers' CLIPImageProcessor with its torchvision backend (the transformers 5 default, which the
golden cases used), the reference for the 'torchvision' flavour in workers/tensor/image.test.ts.

Needs torch, torchvision and transformers >= 5. Run from the repository root:
    python workers/tensor/testdata/make_torchvision_fixture.py [out.json]
"""
import base64
import hashlib
import json
import sys

import numpy as np
import torch
import torchvision
import transformers
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as F
from transformers import CLIPImageProcessor

OUT = sys.argv[1] if len(sys.argv) > 1 else "workers/tensor/testdata/torchvision_bicubic.json"


def pattern(name, w, h):
    """The synthetic images of make_pillow_fixture.py (and image.test.ts)."""
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    if name == "noise":
        v = (x * 37 + y * 101 + c * 71 + ((x * y * 13) % 97) * 3) % 256
    elif name == "checker":
        v = ((x + y) % 2) * 255
    else:
        raise ValueError(name)
    return v.astype(np.uint8)


def golden_image(name):
    if name == "golden:interpolate":
        t = json.load(open("tests/golden/interpolate.json"))["conditions"][1]["image_rgb"]
    else:
        t = json.load(open("tests/golden/image_encoder.json"))["raw_rgb"]
    return np.array(t["data"], dtype=np.uint8).reshape(t["shape"])


def image(src, w, h):
    return golden_image(src) if src.startswith("golden:") else pattern(src, w, h)


def encode(a):
    a = np.ascontiguousarray(a)
    raw = a.tobytes()
    if len(raw) <= 16000:
        return {"b64": base64.b64encode(raw).decode()}
    return {"sha256": hashlib.sha256(raw).hexdigest()}


resizes = []
for src, w, h, nw, nh in [
    ("noise", 17, 11, 7, 5),
    ("noise", 13, 9, 40, 23),
    ("noise", 31, 8, 12, 8),
    ("noise", 8, 31, 8, 77),
    ("checker", 16, 16, 37, 29),
    ("checker", 16, 16, 5, 3),
    ("noise", 200, 150, 9, 7),
    ("golden:image_encoder", 300, 200, 336, 224),
    ("golden:interpolate", 64, 64, 224, 224),
]:
    chw = torch.from_numpy(image(src, w, h)).permute(2, 0, 1).contiguous()
    out = F.resize(chw, [nh, nw], interpolation=InterpolationMode.BICUBIC, antialias=True)
    hwc = out.permute(1, 2, 0).contiguous().numpy().astype(np.uint8)
    resizes.append({"source": src, "width": w, "height": h, "new_width": nw, "new_height": nh, **encode(hwc)})

clip = []
for src, w, h, size, crop in [
    ("noise", 13, 9, 8, 6),
    ("noise", 9, 14, 6, 6),
    ("noise", 11, 7, 5, 7),
    ("noise", 10, 9, 6, 9),
    ("golden:interpolate", 64, 64, 224, 224),
    ("golden:image_encoder", 300, 200, 224, 224),
]:
    proc = CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": crop, "width": crop})
    assert type(proc).__name__ != "CLIPImageProcessorPil", "torchvision backend expected"
    pv = proc(images=torch.from_numpy(image(src, w, h)).permute(2, 0, 1), return_tensors="pt")["pixel_values"]
    pv = pv.numpy().astype("<f4")
    clip.append({
        "source": src, "width": w, "height": h, "size": size, "crop_size": crop,
        "mean": list(proc.image_mean), "std": list(proc.image_std), "shape": list(pv.shape), **encode(pv),
    })

json.dump(
    {
        "torch": torch.__version__, "torchvision": torchvision.__version__, "transformers": transformers.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(), "resize": resizes, "clip_torchvision": clip,
    },
    open(OUT, "w"),
    indent=1,
)
print("wrote", OUT, torch.__version__, torchvision.__version__, transformers.__version__, torch.backends.cpu.get_cpu_capability())
