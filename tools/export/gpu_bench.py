"""Full-size Kandinsky 2.2 (random weights): PyTorch eager on the GPU vs onnxruntime, per stage.

Run through tools/export/gpu_bench.sh on a GPU machine. Prints markdown tables; asserts nothing.
  1. PyTorch, fp16 and fp32, on --device (SPEC §6 protocol: 3 warm-ups, mean of 10):
     UNet step with CFG batch 2 at 512 and 768, prior step batch 2, MoVQ decode 512 / 768.
  2. Our exporter on the same weights (random, full size): export time and size per stage.
  3. onnxruntime on those graphs (best provider available: CUDA if onnxruntime-gpu is
     installed, else CPU), 1 warm-up, mean of 3.
`--size tiny --device cpu` runs the same code on the toy architecture (a smoke test).
"""
from __future__ import annotations

import argparse
import gc
import json
import time
from pathlib import Path

import numpy as np
import torch


def build(size: str):
    from diffusers import PriorTransformer, UNet2DConditionModel, VQModel

    from .configs import FULL, TINY

    cfg = FULL if size == "full" else TINY
    torch.manual_seed(0)
    return {"unet": UNet2DConditionModel(**cfg["unet"]).eval(), "prior": PriorTransformer(**cfg["prior"]).eval(),
            "movq": VQModel(**cfg["movq"]).eval()}


def cuda_time(fn, warmup: int, repeats: int, device: str) -> float:
    """Mean ms per call."""
    for _ in range(warmup):
        fn()
    if device == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t) / repeats * 1e3


def torch_table(models, device: str, dtypes, sides, warmup=3, repeats=10) -> list[tuple]:
    rows = []
    d = models["prior"].config.embedding_dim
    hid = models["prior"].config.num_attention_heads * models["prior"].config.attention_head_dim
    for dt in dtypes:
        tdt = {"fp16": torch.float16, "fp32": torch.float32}[dt]
        with torch.no_grad():
            unet = models["unet"].to(device, tdt)
            for side in sides:
                x = torch.randn(2, 4, side // 8, side // 8, device=device, dtype=tdt)
                t = torch.tensor([500.0, 500.0], device=device)
                e = torch.randn(2, unet.config.encoder_hid_dim, device=device, dtype=tdt)
                ms = cuda_time(lambda: unet(x, t, None, added_cond_kwargs={"image_embeds": e}), warmup, repeats, device)
                rows.append((f"UNet step, CFG batch 2, {side}x{side}", dt, "torch", ms))
            models["unet"] = unet.to("cpu", torch.float32)
            del unet
            prior = models["prior"].to(device, tdt)
            h = torch.randn(2, d, device=device, dtype=tdt)
            ehs = torch.randn(2, 77, prior.config.embedding_dim, device=device, dtype=tdt)
            mask = torch.ones(2, 77, dtype=torch.bool, device=device)
            ms = cuda_time(lambda: prior(h, timestep=torch.tensor([500, 500], device=device), proj_embedding=h,
                                         encoder_hidden_states=ehs, attention_mask=mask), warmup, repeats, device)
            rows.append(("prior step, batch 2", dt, "torch", ms))
            models["prior"] = prior.to("cpu", torch.float32)
            movq = models["movq"].to(device, tdt)
            for side in sides:
                z = torch.randn(1, 4, side // 8, side // 8, device=device, dtype=tdt)
                ms = cuda_time(lambda: movq.decode(z, force_not_quantize=True), warmup, repeats, device)
                rows.append((f"MoVQ decode {side}x{side}", dt, "torch", ms))
            models["movq"] = movq.to("cpu", torch.float32)
            if device == "cuda":
                torch.cuda.empty_cache()
    _ = hid
    return rows


def export_and_time(models, out: Path, variants, sides, deadline: float) -> tuple[list, list]:
    import onnxruntime as ort

    from .onnx_io import export_stage, save_model
    from .precision import apply
    from .stages import MovqDecoder, Prior, UNet, sample_inputs, stage_contract

    d = models["prior"].config.embedding_dim
    wrap = {"movq_decoder": lambda: MovqDecoder(models["movq"]), "prior": lambda: Prior(models["prior"]),
            "unet": lambda: UNet(models["unet"])}
    providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()]
    exports, rows = [], []
    for stage in ("movq_decoder", "prior", "unet"):
        for dtype in variants:
            if time.time() > deadline:
                print(f"skipping {stage} {dtype}: out of time", flush=True)
                continue
            st = stage_contract(stage, d, d)
            t0 = time.time()
            model = export_stage(wrap[stage](), st, sample_inputs(st, batch=2, side=64), out / "work")
            model = apply(model, dtype, "none")
            entry = save_model(model, out / f"bundle-{dtype}", stage)
            del model
            gc.collect()
            size = entry["bytes"] + sum(e["bytes"] for e in entry.get("external_data", []))
            exports.append((stage, dtype, time.time() - t0, size))
            print(f"exported {stage} {dtype}: {size / 1e9:.3f} GB in {time.time() - t0:.0f} s", flush=True)
            opts = ort.SessionOptions()
            opts.log_severity_level = 3
            t0 = time.time()
            sess = ort.InferenceSession(str(out / f"bundle-{dtype}" / entry["file"]), opts, providers=providers)
            print(f"  session {stage} {dtype} on {sess.get_providers()[0]}: {time.time() - t0:.1f} s", flush=True)
            cpu_only = sess.get_providers()[0] == "CPUExecutionProvider"
            for side in (sides if stage != "prior" else sides[:1]):
                if time.time() > deadline or (cpu_only and dtype == "fp16"):  # fp16 on CPU: not a useful figure
                    break
                feeds = {k: v.numpy() for k, v in sample_inputs(st, batch=1 if stage == "movq_decoder" else 2, side=side).items()}
                sess.run(None, feeds)
                t = time.perf_counter()
                for _ in range(3):
                    sess.run(None, feeds)
                ms = (time.perf_counter() - t) / 3 * 1e3
                label = {"unet": f"UNet step, CFG batch 2, {side}x{side}", "prior": "prior step, batch 2",
                         "movq_decoder": f"MoVQ decode {side}x{side}"}[stage]
                rows.append((label, dtype, f"onnxruntime {sess.get_providers()[0].replace('ExecutionProvider', '')}", ms))
                print(f"  {label} {dtype}: {ms:.1f} ms", flush=True)
            del sess
            gc.collect()
    return exports, rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.export.gpu_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="work folder (exported graphs, results.json)")
    p.add_argument("--size", choices=("full", "tiny"), default="full")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--budget-s", type=float, default=420, help="stop starting new exports after this many seconds")
    p.add_argument("--skip-onnx", action="store_true")
    args = p.parse_args(argv)
    start = time.time()
    sides = (512, 768) if args.size == "full" else (64, 128)
    print(f"torch {torch.__version__}, device {args.device}"
          + (f" ({torch.cuda.get_device_name()})" if args.device == "cuda" else ""), flush=True)
    models = build(args.size)
    print(f"built random {args.size} models in {time.time() - start:.0f} s", flush=True)
    rows = torch_table(models, args.device, ("fp16", "fp32") if args.device == "cuda" else ("fp32",), sides)
    exports = []
    if not args.skip_onnx:
        args.out.mkdir(parents=True, exist_ok=True)
        exports, ort_rows = export_and_time(models, args.out, ("fp32", "fp16") if args.device == "cuda" else ("fp32",),
                                            sides, start + args.budget_s)
        rows += ort_rows
    print("\n| stage | dtype | runtime | mean ms |\n|---|---|---|---|")
    for label, dt, rt, ms in rows:
        print(f"| {label} | {dt} | {rt} | {ms:.1f} |")
    if exports:
        print("\n| stage | dtype | export s | bytes |\n|---|---|---|---|")
        for stage, dt, s, b in exports:
            print(f"| {stage} | {dt} | {s:.0f} | {b / 1e9:.3f} GB |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"rows": rows, "exports": exports}, indent=1))
    print(f"total {time.time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
