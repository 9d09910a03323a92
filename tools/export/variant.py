"""Derive a precision variant (fp16, int8, int4) from an fp32 bundle, without the PyTorch checkpoint.

The exporter writes a variant as `apply(fp32 graph, dtype, quantize)` (cli.py); this does the same to
the fp32 bundle's own ONNX files, so the shipped fp32 bundle is enough to rebuild its variants:

    python -m tools.export.variant --from public/models/micro-kandinsky-2-2 \
        --out public/models/micro-kandinsky-2-2-int4 --dtype fp32 --quantize int4

Manifest, tokenizer, prior stats and the optional linear prior are copied; each stage entry gets the
new file, bytes, sha256, compute dtype and weight format. No onnxruntime-vs-PyTorch check runs here
(there is no PyTorch model); the parity runner and the semantic evaluation compare variants instead.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import onnx

from . import bundle
from .onnx_io import save_model
from .precision import apply

# Files a bundle may name besides its stages (SPEC §2 and the README's extensions).
_SIDE_FILES = ("prior_stats.json",)


def derive(src: Path, out: Path, dtype: str, quantize: str, name: str | None = None, surgery=None) -> dict:
    """Write the (dtype, quantize) variant of the fp32 bundle `src` into `out`; returns its manifest.
    surgery: the surgery.py passes to run first (None: its DEFAULT_PASSES, () or False: none); a pass finds nothing
    to do in a graph it already rewrote."""
    manifest = bundle.read_json(src / "manifest.json")
    precision = manifest.get("precision", {"dtype": "fp32", "quantize": "none"})
    if precision.get("dtype") != "fp32" or precision.get("quantize") != "none":
        raise SystemExit(f"{src} is a {precision} bundle; derive variants from an fp32 one")
    if out.resolve() == src.resolve():
        raise SystemExit("--out must differ from --from")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    stages = {}
    for stage, entry in manifest["stages"].items():
        model = onnx.load(str(src / entry["file"]), load_external_data=True)
        model = apply(model, dtype, quantize, surgery)
        written = save_model(model, out, Path(entry["file"]).stem)
        new = {**entry, "file": written["file"], "bytes": written["bytes"], "sha256": written["sha256"],
               "compute_dtype": bundle.DTYPE_NAMES[dtype], "weights": bundle.WEIGHTS[(dtype, quantize)]}
        new.pop("external_data", None)
        if "external_data" in written:
            new["external_data"] = written["external_data"]
        stages[stage] = new
        print(f"[{stage}] {entry['bytes'] / 1e6:.1f} MB -> {written['bytes'] / 1e6:.1f} MB", flush=True)
    for text in ("text", "text_multilingual"):  # text_multilingual: Kandinsky 2.1 (docs/kandinsky-2-1.md)
        if text not in manifest:
            continue
        tokenizer = Path(manifest[text]["tokenizer"])
        (out / tokenizer.parent).mkdir(parents=True, exist_ok=True)
        for f in (src / tokenizer.parent).iterdir():
            shutil.copy2(f, out / tokenizer.parent / f.name)
    side = list(_SIDE_FILES) + ([manifest["linear_prior"]["file"]] if "linear_prior" in manifest else [])
    for f in side:
        if (src / f).exists():
            shutil.copy2(src / f, out / f)
    derived = {**manifest, "name": name or out.name, "stages": stages,
               "precision": {"dtype": dtype, "quantize": quantize, "requires_shader_f16": dtype == "fp16"}}
    bundle.write_json(out / "manifest.json", bundle.json_safe(derived))
    return derived


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.export.variant", description=__doc__.split("\n")[0])
    p.add_argument("--from", dest="src", required=True, type=Path, help="an fp32 bundle folder")
    p.add_argument("--out", required=True, type=Path, help="variant folder to write (replaced)")
    p.add_argument("--dtype", choices=("fp32", "fp16"), default="fp32")
    p.add_argument("--quantize", choices=("none", "int8", "int4"), default="none")
    p.add_argument("--name", help="bundle name for the manifest (default: the folder's name)")
    from .surgery import add_arguments, from_arguments

    add_arguments(p)
    args = p.parse_args(argv)
    m = derive(args.src, args.out, args.dtype, args.quantize, args.name, surgery=from_arguments(args))
    print(json.dumps({"wrote": str(args.out), "stages": len(m["stages"])}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
