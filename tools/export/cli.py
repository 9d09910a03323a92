"""`python -m tools.export`: diffusers Kandinsky 2.2 or 2.1 checkpoint folders -> ONNX bundle.

The family comes from the folders' model_index.json `_class_name` (KandinskyV22*Pipeline: 2.2, a version 1
bundle as SPEC §2; KandinskyPriorPipeline / KandinskyPipeline / KandinskyInpaintPipeline: 2.1, a version 2
bundle as docs/kandinsky-2-1.md)."""
from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

from . import bundle
from .stages import ALL_STAGE_NAMES, load_module, sample_inputs, stage_contract, stage_names


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tools.export", description=__doc__)
    p.add_argument("--out", required=True, type=Path, help="bundle folder to write (created if missing)")
    p.add_argument("--dtype", choices=("fp32", "fp16"), default="fp32",
                   help="compute dtype inside the graphs (I/O stays float32); fp16 needs WebGPU shader-f16")
    p.add_argument("--quantize", choices=("none", "int8", "int4"), default="none",
                   help="weight-only quantization (MatMulNBits + int8 conv weights)")
    p.add_argument("--prior", type=Path, help="KandinskyV22PriorPipeline or KandinskyPriorPipeline folder (prior, text_encoder, image_encoder, tokenizer, ...)")
    p.add_argument("--decoder", type=Path, help="KandinskyV22Pipeline folder (unet, movq, scheduler) or KandinskyPipeline folder (also text_encoder, tokenizer: M-CLIP)")
    p.add_argument("--inpaint", type=Path, help="KandinskyV22InpaintPipeline or KandinskyInpaintPipeline folder (its unet becomes unet_inpaint)")
    p.add_argument("--stages", nargs="+", choices=ALL_STAGE_NAMES, help="export only these (default: all the given folders hold)")
    p.add_argument("--name", help="bundle name for the manifest")
    p.add_argument("--description", help="description for the manifest (default: kept, or a generic one)")
    p.add_argument("--no-verify", action="store_true", help="skip the onnxruntime-vs-PyTorch check")
    from .surgery import add_arguments

    add_arguments(p)
    p.add_argument("--native-size", type=int, nargs=2, metavar=("WIDTH", "HEIGHT"),
                   help="the size the model was trained at, written as the manifest's optional native_size (the app's default frame)")
    return p.parse_args(argv)


def _sources(args) -> dict[str, Path | None]:
    src = {"prior": args.prior, "decoder": args.decoder, "inpaint": args.inpaint}
    for k, v in src.items():
        if v is not None and not Path(v).is_dir():
            raise SystemExit(f"--{k} {v}: not a folder; expected a diffusers checkpoint folder (save_pretrained layout)")
    return src


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    from .configs import cpu_threads
    from .onnx_io import export_stage, save_model, temp_dir
    from .precision import apply
    from .verify import verify_stage

    from .surgery import from_arguments

    passes = from_arguments(args)
    torch.set_num_threads(cpu_threads())
    src = _sources(args)
    if not any(src.values()):
        raise SystemExit("give at least one of --prior, --decoder, --inpaint (local diffusers checkpoint folders)")
    family = bundle.detect_family(src)
    k21 = family == "kandinsky-2.1"
    names = stage_names(family)
    for s in args.stages or ():
        if s not in names:
            raise SystemExit(f"stage {s} is not a {family} stage; {family} has: {', '.join(names)}")
    stages = args.stages or [s for s in names if src[stage_contract(s, 1, 1, family).source] is not None]
    for s in stages:
        need = stage_contract(s, 1, 1, family).source
        if src[need] is None:
            raise SystemExit(f"stage {s} needs --{need}")
    d, h = bundle.dims(src["prior"], src["decoder"] or src["inpaint"])
    hm, vocab = bundle.multilingual_dims(src["decoder"] or src["inpaint"]) if k21 else (None, None)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    manifest_path = out / "manifest.json"
    old = bundle.read_json(manifest_path) if manifest_path.exists() else {}
    variant = {"dtype": args.dtype, "quantize": args.quantize}
    if old and old.get("precision") != {**variant, "requires_shader_f16": args.dtype == "fp16"}:
        raise SystemExit(f"{manifest_path} holds a {old.get('precision')} bundle; write {variant} to another --out")
    if old and old.get("family", "kandinsky-2.2") != family:
        raise SystemExit(f"{manifest_path} holds a {old.get('family')} bundle; write {family} to another --out")
    entries = dict(old.get("stages", {}))
    # CLIP preprocessing: the prior's, else what the bundle already says (a decoder-only re-export).
    processor = bundle.image_processor(src["prior"]) if src["prior"] else old.get("image_processor", bundle.image_processor(None))
    failures = []
    for name in stages:
        t0 = time.time()
        st = stage_contract(name, d, h, family, hm, vocab, crop_size=processor["crop_size"])
        print(f"[{name}] loading from {src[st.source]}", flush=True)
        module = load_module(name, src[st.source])
        with temp_dir(f"export-{name}-") as work:
            model = export_stage(module, st, sample_inputs(st, batch=2, side=64), Path(work))
            model = apply(model, args.dtype, args.quantize, surgery=passes)
            entry = save_model(model, out, name)
        del model
        gc.collect()
        entry = {"file": entry["file"], "bytes": entry["bytes"], "sha256": entry["sha256"],
                 **({"stats": "prior_stats.json"} if name == "prior" else {}),
                 "inputs": st.inputs, "outputs": st.outputs,
                 "compute_dtype": bundle.DTYPE_NAMES[args.dtype],
                 "weights": bundle.WEIGHTS[(args.dtype, args.quantize)],
                 **({"external_data": entry["external_data"]} if "external_data" in entry else {})}
        entries[name] = entry
        size = entry["bytes"] + sum(e["bytes"] for e in entry.get("external_data", []))
        print(f"[{name}] wrote {size / 1e6:.1f} MB in {time.time() - t0:.0f} s", flush=True)
        if not args.no_verify:
            worst, tol, ok = verify_stage(module, st, out / entry["file"], args.dtype, args.quantize)
            print(f"[{name}] verify: worst error {worst:.3e} x max(1,|ref|), tolerance {tol:.0e}: {'PASS' if ok else 'FAIL'}", flush=True)
            if not ok:
                failures.append(name)
        del module
        gc.collect()

    if src["prior"] is not None:
        text = bundle.write_tokenizer(src["prior"], out)
        bundle.write_prior_stats(src["prior"], out)
    else:
        text = old.get("text", {"max_length": 77, "tokenizer": "tokenizer/tokenizer.json"})
    if k21 and (src["decoder"] or src["inpaint"]) is not None:
        text_multilingual = bundle.write_multilingual_tokenizer(src["decoder"] or src["inpaint"], out)
    elif k21:
        text_multilingual = old.get("text_multilingual", {"max_length": 77, "tokenizer": "tokenizer_multilingual/tokenizer.json"})
    schedulers = dict(old.get("schedulers", {}))
    if src["prior"] is not None:
        schedulers["prior"] = bundle.scheduler_config(src["prior"])
    dec = src["decoder"] or src["inpaint"]
    if dec is not None:
        schedulers["decoder"] = bundle.scheduler_config(dec)
    label = "Kandinsky 2.1" if k21 else "Kandinsky 2.2"
    manifest = {
        "format": bundle.FORMAT, "version": bundle.VERSION_21 if k21 else bundle.VERSION,
        "name": args.name or old.get("name") or out.name,
        "family": family,
        "description": args.description or old.get("description") or f"{label} exported by tools/export ({args.dtype}, quantize {args.quantize}).",
        "dtype": "float32",
        "precision": {**variant, "requires_shader_f16": args.dtype == "fp16"},
        "embedding_dim": d,
        "text": text,
        **({"text_multilingual": text_multilingual} if k21 else {}),
        "image_processor": processor,
        "movq": bundle.movq_info(src["decoder"]) if src["decoder"] else old.get("movq", bundle.movq_info(None)),
        "stages": {k: entries[k] for k in names if k in entries},
        "schedulers": schedulers,
    }
    native = {"width": args.native_size[0], "height": args.native_size[1]} if args.native_size else old.get("native_size")
    if native is not None:
        if any(v < 64 or v % 64 for v in native.values()):
            raise SystemExit(f"--native-size {native}: expected multiples of 64 (the decoder's granularity)")
        manifest["native_size"] = native
    if "decoder" in schedulers:
        alternatives = bundle.scheduler_alternatives_21 if k21 else bundle.scheduler_alternatives
        manifest["scheduler_alternatives"] = alternatives(schedulers["decoder"])
    bundle.write_json(manifest_path, bundle.json_safe(manifest))
    print(f"wrote {manifest_path} ({len(manifest['stages'])} stages)")
    if failures:
        print(f"verification FAILED for: {', '.join(failures)}")
        return 1
    return 0
