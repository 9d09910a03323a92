"""Sizes of every stage of the full-size Kandinsky 2.2 (or, `--family 2.1`, 2.1) architecture per precision variant.

`python -m tools.export.sizes [--family 2.1]` computes them from the architecture (meta device, no memory):
fp32 = 4 bytes/param, fp16 = 2, and for int8/int4 the exact layout precision.py writes
(MatMulNBits: bits/8 per weight + one scale per 32-weight block; conv weights int8 with one
scale and zero point per output channel; everything else float).
`--measure-movq DIR` also exports the full-size MoVQ with random weights in every variant and
prints the measured file sizes next to the computed ones (the check on the computation).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from .configs import FULL, FULL_21
from .precision import BLOCK_SIZE, MIN_CONV_WEIGHTS

VARIANTS = (("fp32", "none"), ("fp16", "none"), ("fp32", "int8"), ("fp32", "int4"), ("fp16", "int4"))


def full_models() -> dict[str, torch.nn.Module]:
    from diffusers import PriorTransformer, UNet2DConditionModel, VQModel
    from transformers import (CLIPTextConfig, CLIPTextModelWithProjection, CLIPVisionConfig,
                              CLIPVisionModelWithProjection)

    with torch.device("meta"):
        movq = VQModel(**FULL["movq"])
        unet = UNet2DConditionModel(**FULL["unet"])
        return {
            "text_encoder": CLIPTextModelWithProjection(CLIPTextConfig(**FULL["text_encoder"])),
            "image_encoder": CLIPVisionModelWithProjection(CLIPVisionConfig(**FULL["image_encoder"])),
            "prior": PriorTransformer(**FULL["prior"]),
            "unet": unet,
            "unet_inpaint": UNet2DConditionModel(**{**FULL["unet"], "in_channels": 9}),
            "movq_encoder": torch.nn.ModuleList([movq.encoder, movq.quant_conv]),
            "movq_decoder": torch.nn.ModuleList([movq.decoder, movq.post_quant_conv]),
        }


def full_models_21() -> dict[str, torch.nn.Module]:
    """Kandinsky 2.1 at full size (configs.FULL_21), on the meta device."""
    from diffusers import PriorTransformer, UNet2DConditionModel, VQModel
    from transformers import (CLIPTextConfig, CLIPTextModelWithProjection, CLIPVisionConfig,
                              CLIPVisionModelWithProjection)

    from .configs import build_multilingual_text_encoder

    with torch.device("meta"):
        movq = VQModel(**FULL_21["movq"])
        return {
            "text_encoder": CLIPTextModelWithProjection(CLIPTextConfig(**FULL_21["text_encoder"])),
            "image_encoder": CLIPVisionModelWithProjection(CLIPVisionConfig(**FULL_21["image_encoder"])),
            "prior": PriorTransformer(**FULL_21["prior"]),
            "text_encoder_multilingual": build_multilingual_text_encoder(FULL_21["text_encoder_multilingual"], 0, randomise=False),
            "unet": UNet2DConditionModel(**FULL_21["unet"]),
            "unet_inpaint": UNet2DConditionModel(**{**FULL_21["unet"], "in_channels": 9}),
            "movq_encoder": torch.nn.ModuleList([movq.encoder, movq.quant_conv]),
            "movq_decoder": torch.nn.ModuleList([movq.decoder, movq.post_quant_conv]),
        }


def stage_bytes(model: torch.nn.Module, dtype: str, quant: str) -> int:
    fbytes = 2 if dtype == "fp16" else 4
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    edge = {id(convs[0]), id(convs[-1])} if convs else set()
    total = 0
    for m in model.modules():
        for name, p in m.named_parameters(recurse=False):
            n = p.numel()
            if quant != "none" and isinstance(m, torch.nn.Linear) and name == "weight":
                k, o = m.in_features, m.out_features
                blocks = -(-k // BLOCK_SIZE)
                bits = 8 if quant == "int8" else 4
                total += o * blocks * (BLOCK_SIZE * bits // 8) + o * blocks * fbytes
            elif (quant != "none" and isinstance(m, torch.nn.Conv2d) and name == "weight"
                  and n >= MIN_CONV_WEIGHTS and id(m) not in edge):
                total += n + m.out_channels * (4 + 1)
            else:
                total += n * fbytes
    for b in model.buffers():
        total += b.numel() * fbytes
    return total


def computed(models: dict[str, torch.nn.Module] | None = None) -> dict[str, dict[str, int]]:
    models = full_models() if models is None else models
    return {name: {f"{d}/{q}": stage_bytes(m, d, q) for d, q in VARIANTS} for name, m in models.items()}


def measure_movq(work: Path) -> dict[str, dict[str, int]]:
    from diffusers import VQModel

    from .cli import main
    from .configs import DECODER_SCHEDULER, _write_scheduler

    ck = work / "checkpoint"
    VQModel(**FULL["movq"]).save_pretrained(ck / "movq")
    (ck / "unet").mkdir(parents=True, exist_ok=True)
    (ck / "unet" / "config.json").write_text(json.dumps({"encoder_hid_dim": 1280}))
    _write_scheduler(ck / "scheduler", DECODER_SCHEDULER)
    out = {}
    for d, q in VARIANTS:
        b = work / f"{d}-{q}"
        main(["--out", str(b), "--dtype", d, "--quantize", q, "--decoder", str(ck),
              "--stages", "movq_encoder", "movq_decoder"])
        for s, e in json.loads((b / "manifest.json").read_text())["stages"].items():
            out.setdefault(s, {})[f"{d}/{q}"] = e["bytes"] + sum(x["bytes"] for x in e.get("external_data", []))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.export.sizes", description=__doc__.split("\n\n")[0])
    p.add_argument("--measure-movq", type=Path, help="work folder: also export the full-size MoVQ and measure")
    p.add_argument("--family", choices=("2.2", "2.1"), default="2.2", help="which Kandinsky (default 2.2)")
    args = p.parse_args(argv)
    models = full_models_21() if args.family == "2.1" else full_models()
    table = computed(models)
    cols = [f"{d}/{q}" for d, q in VARIANTS]
    print("| stage | params | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for name, row in table.items():
        params = sum(p.numel() for p in models[name].parameters())
        print(f"| {name} | {params / 1e6:.0f}M | " + " | ".join(f"{row[c] / 1e9:.3f} GB" for c in cols) + " |")
    total = {c: sum(row[c] for row in table.values()) for c in cols}
    print(f"| **whole bundle** (all {len(table)}) | | " + " | ".join(f"{total[c] / 1e9:.1f} GB" for c in cols) + " |")
    if args.measure_movq:
        measured = measure_movq(args.measure_movq)
        for name, row in measured.items():
            print(f"| {name} (measured) | | " + " | ".join(f"{row[c] / 1e9:.3f} GB" for c in cols) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
