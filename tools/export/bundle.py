"""Bundle-level files (SPEC §2): manifest, tokenizer, prior stats, scheduler configs."""
from __future__ import annotations

import json
import math
from pathlib import Path

FORMAT = "kandinsky-onnx-bundle"
VERSION = 1  # Kandinsky 2.2 bundles stay version 1 (SPEC §2)
VERSION_21 = 2  # Kandinsky 2.1 needs version 2 (docs/kandinsky-2-1.md)
# model_index.json `_class_name` of each checkpoint folder -> (family, folder role)
PIPELINE_CLASSES = {
    "KandinskyV22PriorPipeline": ("kandinsky-2.2", "prior"), "KandinskyV22Pipeline": ("kandinsky-2.2", "decoder"),
    "KandinskyV22InpaintPipeline": ("kandinsky-2.2", "inpaint"), "KandinskyV22Img2ImgPipeline": ("kandinsky-2.2", "decoder"),
    "KandinskyPriorPipeline": ("kandinsky-2.1", "prior"), "KandinskyPipeline": ("kandinsky-2.1", "decoder"),
    "KandinskyInpaintPipeline": ("kandinsky-2.1", "inpaint"), "KandinskyImg2ImgPipeline": ("kandinsky-2.1", "decoder"),
}
DTYPE_NAMES = {"fp32": "float32", "fp16": "float16"}
WEIGHTS = {("fp32", "none"): "float32", ("fp16", "none"): "float16",
           ("fp32", "int8"): "int8", ("fp16", "int8"): "int8",
           ("fp32", "int4"): "int4", ("fp16", "int4"): "int4"}

# Keys copied from the decoder's DDPM config into the alternatives (same noise schedule).
_SHARED_SCHEDULE_KEYS = ("num_train_timesteps", "beta_schedule", "beta_start", "beta_end", "trained_betas")
_SHARED_TAIL_KEYS = ("steps_offset", "prediction_type", "thresholding", "timestep_spacing", "rescale_betas_zero_snr")


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def write_json(path: Path, data, indent: int | None = 2) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=indent, allow_nan=False) + "\n")


def scheduler_config(folder: Path) -> dict:
    """The checkpoint's scheduler_config.json, without diffusers' version stamp, class last."""
    raw = read_json(Path(folder) / "scheduler" / "scheduler_config.json")
    cls = raw.pop("_class_name")
    raw.pop("_diffusers_version", None)
    return {**raw, "_class_name": cls}


def scheduler_alternatives(decoder: dict) -> dict:
    """DDIM (eta 0) and DPM-Solver++ 2M on the decoder's noise schedule."""
    head = {k: decoder[k] for k in _SHARED_SCHEDULE_KEYS if k in decoder and decoder[k] is not None}
    tail = {k: decoder[k] for k in _SHARED_TAIL_KEYS if k in decoder}
    ddim = {**head, "clip_sample": False, "set_alpha_to_one": False, **tail, "_class_name": "DDIMScheduler"}
    dpm = {**head, **tail, "algorithm_type": "dpmsolver++", "solver_order": 2, "solver_type": "midpoint",
           "lower_order_final": True, "_class_name": "DPMSolverMultistepScheduler"}
    return {"ddim": ddim, "dpmpp_2m": dpm}


def detect_family(folders: dict) -> str:
    """"kandinsky-2.1" or "kandinsky-2.2" from the folders' model_index.json `_class_name` (a folder without
    one counts as 2.2, the exporter's first family). Mixed families are refused."""
    found = {}
    for role, folder in folders.items():
        if folder is None:
            continue
        index = Path(folder) / "model_index.json"
        cls = read_json(index).get("_class_name") if index.exists() else None
        if cls is None:
            continue
        if cls not in PIPELINE_CLASSES:
            raise SystemExit(f"--{role} {folder}: model_index.json names {cls}, not a Kandinsky 2.1/2.2 pipeline "
                             f"(expected one of {', '.join(PIPELINE_CLASSES)})")
        found[role] = PIPELINE_CLASSES[cls][0]
    families = set(found.values())
    if len(families) > 1:
        raise SystemExit(f"checkpoint folders of different families: {found}; give the prior, decoder and inpaint folders of one model")
    return families.pop() if families else "kandinsky-2.2"


def _save_tokenizer(checkpoint: Path, folder: Path):
    """A checkpoint's tokenizer/ as transformers loads it, saved as `folder`/tokenizer.json without padding or
    truncation (the engine pads and truncates itself); returns the tokenizer and the folder."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(Path(checkpoint) / "tokenizer", local_files_only=True)
    backend = tok.backend_tokenizer
    backend.no_padding()
    backend.no_truncation()
    folder.mkdir(parents=True, exist_ok=True)
    backend.save(str(folder / "tokenizer.json"))
    return tok, folder


def write_multilingual_tokenizer(decoder: Path, out: Path) -> dict:
    """tokenizer_multilingual/tokenizer.json (+ tokenizer_config.json) from a 2.1 decoder's XLM-R tokenizer, as
    transformers loads it (the backend diffusers' KandinskyPipeline tokenises with)."""
    tok, folder = _save_tokenizer(decoder, out / "tokenizer_multilingual")
    cfg = {
        "tokenizer_class": "XLMRobertaTokenizer",
        "bos_token": str(tok.bos_token), "eos_token": str(tok.eos_token), "unk_token": str(tok.unk_token),
        "pad_token": str(tok.pad_token), "mask_token": str(tok.mask_token), "model_max_length": 77,
    }
    write_json(folder / "tokenizer_config.json", cfg)
    return {"max_length": 77, "tokenizer": "tokenizer_multilingual/tokenizer.json"}


def multilingual_dims(decoder: Path | None) -> tuple[int | None, int | None]:
    """(Hm, vocabulary size) of a 2.1 decoder's M-CLIP text encoder (XLM-R width)."""
    if decoder is None or not (Path(decoder) / "text_encoder" / "config.json").exists():
        return None, None
    cfg = read_json(Path(decoder) / "text_encoder" / "config.json")
    return int(cfg.get("transformerDimensions", cfg["hidden_size"])), int(cfg["vocab_size"])


def scheduler_alternatives_21(decoder: dict) -> dict:
    """Kandinsky 2.1's decoder scheduler is DDIM: DDPM (fixed_small, as 2.2's) and DPM-Solver++ 2M on its schedule."""
    head = {k: decoder[k] for k in _SHARED_SCHEDULE_KEYS if k in decoder and decoder[k] is not None}
    tail = {k: decoder[k] for k in _SHARED_TAIL_KEYS if k in decoder}
    ddpm = {**head, "clip_sample": False, **tail, "variance_type": "fixed_small", "_class_name": "DDPMScheduler"}
    dpm = {**head, **tail, "algorithm_type": "dpmsolver++", "solver_order": 2, "solver_type": "midpoint",
           "lower_order_final": True, "_class_name": "DPMSolverMultistepScheduler"}
    return {"ddpm": ddpm, "dpmpp_2m": dpm}


def write_tokenizer(prior: Path, out: Path) -> dict:
    """tokenizer/tokenizer.json (+ tokenizer_config.json) from the prior's CLIP tokenizer."""
    tok, folder = _save_tokenizer(prior, out / "tokenizer")
    cfg = {
        "tokenizer_class": "CLIPTokenizer",
        "bos_token": str(tok.bos_token), "eos_token": str(tok.eos_token),
        "unk_token": str(tok.unk_token), "pad_token": str(tok.pad_token),
        "model_max_length": min(int(tok.model_max_length), 77),
    }
    write_json(folder / "tokenizer_config.json", cfg)
    return {"max_length": 77, "tokenizer": "tokenizer/tokenizer.json"}


def write_prior_stats(prior: Path, out: Path) -> None:
    """prior_stats.json: clip_mean / clip_std read straight from the prior's weights."""
    from safetensors import safe_open

    folder = Path(prior) / "prior"
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"no .safetensors weights in {folder}; expected a diffusers PriorTransformer folder")
    stats = {}
    for f in files:
        with safe_open(str(f), framework="pt") as st:
            for key in ("clip_mean", "clip_std"):
                if key in st.keys():
                    stats[key] = [float(x) for x in st.get_tensor(key).float().reshape(-1)]
    if set(stats) != {"clip_mean", "clip_std"}:
        raise ValueError(f"{folder} lacks clip_mean/clip_std; is it a Kandinsky 2.2 prior?")
    write_json(out / "prior_stats.json", stats, indent=None)


def image_processor(prior: Path | None) -> dict:
    """CLIP preprocessing (SPEC §3) from the prior's image_processor config."""
    from .configs import CLIP_MEAN, CLIP_STD

    cfg = {}
    if prior is not None and (Path(prior) / "image_processor" / "preprocessor_config.json").exists():
        cfg = read_json(Path(prior) / "image_processor" / "preprocessor_config.json")
    size = cfg.get("size", {"shortest_edge": 224})
    crop = cfg.get("crop_size", {"height": 224, "width": 224})
    return {
        "size": size.get("shortest_edge", 224) if isinstance(size, dict) else int(size),
        "crop_size": crop.get("height", 224) if isinstance(crop, dict) else int(crop),
        "resample": "bicubic",
        "mean": cfg.get("image_mean", CLIP_MEAN), "std": cfg.get("image_std", CLIP_STD),
    }


def dims(prior: Path | None, decoder: Path | None) -> tuple[int, int]:
    """(embedding_dim D, text hidden size H) from whichever checkpoints are given."""
    d = h = None
    if prior is not None:
        d = read_json(Path(prior) / "prior" / "config.json")["embedding_dim"]
        h = read_json(Path(prior) / "text_encoder" / "config.json").get("hidden_size")
    if d is None and decoder is not None:
        unet = read_json(Path(decoder) / "unet" / "config.json")
        # 2.1 (text_image_proj): encoder_hid_dim is the XLM-R width; D is the cross-attention width.
        d = unet["cross_attention_dim"] if unet.get("encoder_hid_dim_type") == "text_image_proj" else unet["encoder_hid_dim"]
    if d is None:
        raise ValueError("need --prior or --decoder to know the embedding size")
    return int(d), int(h if h is not None else d)


def movq_info(decoder: Path | None) -> dict:
    if decoder is None:
        return {"scale_factor": 8, "latent_channels": 4, "force_not_quantize": True}
    cfg = read_json(Path(decoder) / "movq" / "config.json")
    return {"scale_factor": 2 ** (len(cfg["block_out_channels"]) - 1),
            "latent_channels": cfg.get("latent_channels", 4), "force_not_quantize": True}


def json_safe(value):
    """Non-finite floats as "Infinity"/"-Infinity"/"NaN" strings (SPEC §4: strict JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
