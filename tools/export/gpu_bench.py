"""Full-size Kandinsky 2.2 (random weights): PyTorch eager on the GPU vs onnxruntime, per stage.

Run through tools/export/gpu_bench.sh on a GPU machine. Prints markdown tables; asserts nothing.
  1. PyTorch, fp16 and fp32, on --device (SPEC §6 protocol: 3 warm-ups, mean of 10):
     UNet step with CFG batch 2 at 512 and 768, prior step batch 2, MoVQ decode 512 / 768.
  2. Our exporter on the same weights (random, full size): export time and size per stage.
  3. onnxruntime on those graphs (best provider available: CUDA if onnxruntime-gpu is
     installed, else CPU), 1 warm-up, mean of 3.
`--size tiny --device cpu` runs the same code on the toy architecture (a smoke test).

Two narrower modes feed tools/gpu/webgpu-bench.ts (our TypeScript runtime on WebGPU, run by
tools/gpu/run-on-device.sh):
  --torch-json FILE     PyTorch only, per stage of --stages (MoVQ decode at 512 and 768, UNet
                        step CFG batch 2 at 512, prior step batch 2, text encoder batch 2), fp32
                        then fp16, models built straight on the GPU; FILE is rewritten after
                        every figure (keys shared with tools/gpu/report.ts).
  --web-export STAGE    export one stage (fp32 graph, --quantize for compact weights) into
                        OUT/web/STAGE/ and write stage.json there last (its presence means done;
                        failed.txt on error). Several run in parallel, one process per stage.
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


# Stages and pixel sides of the --torch-json / --web-export modes (tools/gpu/report.ts: SIDES).
WEB_STAGES = ("movq_decoder", "unet", "prior", "text_encoder")
WEB_SIDES = {"full": {"movq_decoder": (512, 768), "unet": (512,)}, "tiny": {"movq_decoder": (64, 128), "unet": (64,)}}


def build_one(stage: str, size: str, device: str, eager_attention: bool = False):
    """One random-weight model (diffusers' default init, seed 0), created on `device` directly."""
    from diffusers import PriorTransformer, UNet2DConditionModel, VQModel
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    from .configs import FULL, TINY

    cfg = FULL if size == "full" else TINY
    torch.manual_seed(0)
    with torch.device(device):
        if stage == "unet":
            m = UNet2DConditionModel(**cfg["unet"])
        elif stage == "prior":
            m = PriorTransformer(**cfg["prior"])
        elif stage in ("movq_decoder", "movq"):
            m = VQModel(**cfg["movq"])
        elif stage == "text_encoder":
            conf = CLIPTextConfig(**cfg["text_encoder"])
            # The exporter traces eager attention (stages.load_module); PyTorch timings use the default (SDPA).
            m = CLIPTextModelWithProjection._from_config(conf, **({"attn_implementation": "eager"} if eager_attention else {}))
        else:
            raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(WEB_STAGES)}")
    return m.eval()


def unet_call(model, side: int, dtype, device: str):
    """The UNet CFG step as both PyTorch baselines time it (batch 2, t = 500, image embeddings; seeded inputs)."""
    g = torch.Generator(device=device).manual_seed(0)
    lat = side // 8
    x = torch.randn(2, 4, lat, lat, device=device, dtype=dtype, generator=g)
    e = torch.randn(2, model.config.encoder_hid_dim, device=device, dtype=dtype, generator=g)
    t = torch.tensor([500.0, 500.0], device=device)
    return lambda: model(x, t, None, added_cond_kwargs={"image_embeds": e})


def _row_key(stage: str, side: int) -> str:
    return f"{stage}@{side}" if side else stage


def _write_json_atomic(path: Path, data) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


def torch_json(size: str, device: str, stages, path: Path, warmup=3, repeats=10) -> list[dict]:
    """PyTorch eager per stage and shape, fp32 then fp16 (SPEC §6 protocol); rewrites `path` after each figure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"torch": torch.__version__, "device": device,
            "gpu": torch.cuda.get_device_name() if device == "cuda" else "cpu",
            "protocol": f"eager, {warmup} warm-ups, mean of {repeats}",
            "tf32": {"matmul": torch.backends.cuda.matmul.allow_tf32, "cudnn": torch.backends.cudnn.allow_tf32},
            "rows": []}
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for stage in stages:
        t0 = time.time()
        model = build_one(stage, size, device)
        print(f"[torch] built {stage} on {device} in {time.time() - t0:.1f} s", flush=True)
        for dt in ("fp32", "fp16") if device == "cuda" else ("fp32",):
            tdt = {"fp16": torch.float16, "fp32": torch.float32}[dt]
            model = model.to(tdt)
            g = torch.Generator(device=device).manual_seed(0)
            rnd = lambda *shape: torch.randn(*shape, device=device, dtype=tdt, generator=g)  # noqa: E731
            for side in WEB_SIDES[size].get(stage, (0,)):
                lat = side // 8
                with torch.no_grad():
                    if stage == "unet":
                        fn = unet_call(model, side, tdt, device)
                    elif stage == "movq_decoder":
                        z = rnd(1, 4, lat, lat)
                        fn = lambda: model.decode(z, force_not_quantize=True)  # noqa: E731
                    elif stage == "prior":
                        dim = model.config.embedding_dim
                        h, ehs = rnd(2, dim), rnd(2, 77, dim)
                        mask = torch.zeros(2, 77, dtype=torch.bool, device=device)
                        mask[:, :7] = True
                        ts = torch.tensor([500, 500], device=device)
                        fn = lambda: model(h, timestep=ts, proj_embedding=h, encoder_hidden_states=ehs,  # noqa: E731
                                           attention_mask=mask)
                    else:
                        ids = torch.full((2, 77), 49407, dtype=torch.long, device=device)
                        ids[:, 0] = 49406
                        ids[:, 1:6] = torch.arange(417, 902, 97, device=device)
                        fn = lambda: model(input_ids=ids)  # noqa: E731
                    try:
                        ms = cuda_time(fn, warmup, repeats, device)
                    except Exception as e:  # noqa: BLE001 - one failing figure must not cost the others
                        print(f"[torch] {stage} {side or ''} {dt} failed: {e}", flush=True)
                        continue
                    sync()
                meta["rows"].append({"key": _row_key(stage, side), "dtype": dt, "ms": ms})
                _write_json_atomic(path, meta)
                print(f"[torch] {_row_key(stage, side)} {dt}: {ms:.2f} ms", flush=True)
        del model
        gc.collect()
        if device == "cuda":
            torch.cuda.empty_cache()
    _write_json_atomic(path, meta)
    return meta["rows"]


def web_export(stage: str, quant: str, size: str, out: Path) -> dict:
    """Export one stage as tools/gpu/webgpu-bench.ts reads it: OUT/web/STAGE/{graph, stage.json}."""
    import logging
    import shutil

    import onnxruntime.quantization.matmul_nbits_quantizer  # noqa: F401 - configures its logger on import

    from .configs import FULL, TINY
    from .onnx_io import export_stage, save_model, temp_dir
    from .precision import apply
    from .stages import MovqDecoder, Prior, TextEncoder, UNet, sample_inputs, stage_contract

    for name in ("onnxruntime.quantization", "onnxruntime.quantization.matmul_nbits_quantizer"):
        logging.getLogger(name).setLevel(logging.WARNING)  # one INFO line per MatMul otherwise
    cfg = FULL if size == "full" else TINY
    d, h = cfg["prior"]["embedding_dim"], cfg["text_encoder"]["hidden_size"]
    dest = out / "web" / stage
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    phases = {}
    t0 = time.time()
    module = build_one(stage, size, "cpu", eager_attention=True)
    wrap = {"movq_decoder": MovqDecoder, "unet": UNet, "prior": Prior, "text_encoder": TextEncoder}[stage](module)
    phases["build_s"] = time.time() - t0
    st = stage_contract(stage, d, h)
    with temp_dir(f"web-{stage}-") as tmp:
        t = time.time()
        model = export_stage(wrap, st, sample_inputs(st, batch=2, side=64), Path(tmp))
        phases["trace_s"] = time.time() - t
        del wrap, module
        gc.collect()
        t = time.time()
        model = apply(model, "fp32", quant)
        phases["quantize_s"] = time.time() - t
        t = time.time()
        entry = save_model(model, dest, stage)
        phases["save_s"] = time.time() - t
    del model
    gc.collect()
    size_bytes = entry["bytes"] + sum(e["bytes"] for e in entry.get("external_data", []))
    info = {
        "stage": stage, "graph": "fp32" if quant == "none" else f"{quant} weights, fp32 compute",
        "embedding_dim": d, "bytes": size_bytes, "export_s": time.time() - t0,
        "phases": {k: round(v, 1) for k, v in phases.items()},
        "entry": {**entry, "inputs": st.inputs, "outputs": st.outputs, "dtype": "float32"},
    }
    _write_json_atomic(dest / "stage.json", info)  # written last: its presence means the graph is complete
    print(f"[export] {stage} {info['graph']}: {size_bytes / 1e9:.3f} GB in {info['export_s']:.0f} s {info['phases']}", flush=True)
    return info


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
    p.add_argument("--torch-json", type=Path, help="only time PyTorch per --stages and write this JSON (tools/gpu)")
    p.add_argument("--web-export", choices=WEB_STAGES, help="only export this stage into OUT/web/STAGE (tools/gpu)")
    p.add_argument("--quantize", choices=("none", "int8", "int4"), default="none", help="with --web-export")
    p.add_argument("--stages", default=",".join(WEB_STAGES), help="with --torch-json: comma-separated stages")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: all cores)")
    args = p.parse_args(argv)
    start = time.time()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.web_export:
        try:
            web_export(args.web_export, args.quantize, args.size, args.out)
        except BaseException as e:
            import traceback

            traceback.print_exc()
            (args.out / "web" / args.web_export).mkdir(parents=True, exist_ok=True)
            (args.out / "web" / args.web_export / "failed.txt").write_text(f"{type(e).__name__}: {e}\n")
            return 1
        return 0
    if args.torch_json:
        stages = [s.strip() for s in args.stages.split(",") if s.strip()]
        for s in stages:
            if s not in WEB_STAGES:
                p.error(f"--stages: unknown stage {s!r}; expected some of {', '.join(WEB_STAGES)}")
        print(f"torch {torch.__version__}, device {args.device}"
              + (f" ({torch.cuda.get_device_name()})" if args.device == "cuda" else ""), flush=True)
        torch_json(args.size, args.device, stages, args.torch_json)
        print(f"total {time.time() - start:.0f} s")
        return 0
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
