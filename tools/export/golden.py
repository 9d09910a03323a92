"""Golden-case generator (SPEC §4).

`python -m tools.export.golden --bundle DIR --prior PATH --decoder PATH [--inpaint PATH] --out DIR`

(A Kandinsky 2.1 bundle, manifest `family: kandinsky-2.1`, gets the cases of golden21.py instead.)

Runs the diffusers pipelines (KandinskyV22PriorPipeline and its interpolate, KandinskyV22Pipeline,
Img2Img, Inpaint) in fp32 on the CPU on the bundle's PyTorch source, with every Gaussian draw
taken from one recorded stream, and writes one JSON file per case in the format of
tests/golden/*.json. Scheduler configs come from the bundle's manifest, so a case checks the
bundle as the app will run it. Every pipeline uses the decoder's MoVQ (the bundle holds one).
The prior-kind cases (README "Prior kinds") add a linear map fitted with numpy, the "no prior"
rescaling and a blend; `--from-bundle` writes only those, from the bundle's ONNX stages.
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from .bundle import json_safe, read_json

TOKENIZER_PROMPTS = [
    "horse", "A corgi gliding on the wave", "Кот в сапогах, акварель", "Ünïcödé café — naïve 🎨 emoji", "",
    "  multiple   spaces\tand\nnewlines  ", "ALL CAPS and MiXeD case", "numbers 1234567, punctuation!?.;:",
    " ".join(["a very long prompt"] * 40),
]
TEXT_PROMPTS = ["horse", "", "A corgi gliding on the wave"]


# ------------------------------------------------------------------ encoding


def f32(x) -> dict:
    a = np.ascontiguousarray(np.asarray(x.detach().cpu() if torch.is_tensor(x) else x, dtype="<f4"))
    return {"dtype": "float32", "shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode("ascii")}


def i64(x) -> dict:
    a = np.asarray(x.detach().cpu() if torch.is_tensor(x) else x, dtype=np.int64)
    return {"dtype": "int64", "shape": list(a.shape), "data": [int(v) for v in a.reshape(-1)]}


def scheduler_dump(s) -> dict:
    return json_safe({"_class_name": type(s).__name__, **{k: v for k, v in s.config.items() if not k.startswith("_")}})


def test_image(h: int, w: int, seed: int) -> np.ndarray:
    """A deterministic, smooth RGB uint8 picture (gradients and low-frequency waves).

    Smooth on purpose: resizers in fixed point (Pillow, torchvision) can differ by one 8-bit
    level at hard edges; one level is 1.5e-2 after CLIP normalisation, far above the
    embedding tolerance."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    phase = seed * 0.7
    r = 127.5 + 100 * np.sin(2 * np.pi * x / w + phase)
    g = 127.5 + 100 * np.cos(2 * np.pi * y / h + phase)
    b = 255 * (x + y) / (h + w)
    return np.clip(np.rint(np.stack([r, g, b], -1)), 0, 255).astype(np.uint8)


# ------------------------------------------------------------------ noise


class RecordedNoise:
    """Stands in for diffusers' randn_tensor: draws from one seeded stream, keeps every draw."""

    def __init__(self, seed: int):
        self.generator = torch.Generator().manual_seed(seed)
        self.draws: list[torch.Tensor] = []

    def __call__(self, shape, generator=None, device=None, dtype=None, layout=None):
        x = torch.randn(tuple(shape), generator=self.generator, dtype=torch.float32)
        self.draws.append(x.clone())
        return x.to(dtype=dtype or torch.float32, device=device or "cpu")


@contextmanager
def recorded_noise(seed: int):
    """Patch randn_tensor in every loaded diffusers module (pipelines and schedulers)."""
    from diffusers.utils import torch_utils

    original = torch_utils.randn_tensor
    rec = RecordedNoise(seed)
    patched = []
    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("diffusers") and getattr(mod, "randn_tensor", None) is original:
            setattr(mod, "randn_tensor", rec)
            patched.append(mod)
    try:
        yield rec
    finally:
        for mod in patched:
            setattr(mod, "randn_tensor", original)


class StepRecorder:
    """callback_on_step_end that keeps (t, latents) after each step."""

    def __init__(self):
        self.steps: list[dict] = []

    def __call__(self, pipe, i, t, kwargs):
        self.steps.append({"t": int(t), "latents": f32(kwargs["latents"])})
        return kwargs


# ------------------------------------------------------------------ pipelines


def prior_pipeline(src, family: str = "kandinsky-2.2"):
    """diffusers' prior pipeline of the family (KandinskyV22PriorPipeline, 2.1: KandinskyPriorPipeline) over a
    source's prior-side models (PyTorch or ONNX-backed)."""
    import diffusers

    cls = diffusers.KandinskyPriorPipeline if family == "kandinsky-2.1" else diffusers.KandinskyV22PriorPipeline
    pipe = cls(prior=src.prior, image_encoder=src.image_encoder, text_encoder=src.text_encoder,
               tokenizer=src.tokenizer, scheduler=src.scheduler("prior"), image_processor=src.image_processor)
    pipe.set_progress_bar_config(disable=True)
    return pipe


SCHEDULER_CLASSES = {"prior": "UnCLIPScheduler", "ddpm": "DDPMScheduler", "ddim": "DDIMScheduler",
                     "dpmpp": "DPMSolverMultistepScheduler"}


class Sources:
    """Loads the diffusers components once (fp32, CPU, no network)."""

    def __init__(self, bundle: Path, prior: Path, decoder: Path, inpaint: Path | None):
        from diffusers import PriorTransformer, UNet2DConditionModel, VQModel
        from transformers import (AutoTokenizer, CLIPImageProcessor, CLIPTextModelWithProjection,
                                  CLIPVisionModelWithProjection)

        self.manifest = read_json(Path(bundle) / "manifest.json")
        kw = dict(local_files_only=True)
        self.prior = PriorTransformer.from_pretrained(Path(prior) / "prior", **kw).eval()
        self.text_encoder = CLIPTextModelWithProjection.from_pretrained(Path(prior) / "text_encoder", **kw).eval()
        self.image_encoder = CLIPVisionModelWithProjection.from_pretrained(Path(prior) / "image_encoder", **kw).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(Path(prior) / "tokenizer", **kw)
        self.image_processor = CLIPImageProcessor.from_pretrained(Path(prior) / "image_processor", **kw)
        self.unet = UNet2DConditionModel.from_pretrained(Path(decoder) / "unet", **kw).eval()
        self.movq = VQModel.from_pretrained(Path(decoder) / "movq", **kw).eval()
        self.unet_inpaint = (UNet2DConditionModel.from_pretrained(Path(inpaint) / "unet", **kw).eval()
                             if inpaint is not None else None)
        d = self.manifest.get("embedding_dim")
        if d is not None and d != self.prior.config.embedding_dim:
            raise SystemExit(f"bundle embedding_dim {d} != prior's {self.prior.config.embedding_dim}: wrong --bundle or --prior")

    def scheduler(self, kind: str):
        """The bundle's own config of that scheduler class: the decoder's (DDPM in 2.2, DDIM in 2.1) or an alternative."""
        import diffusers

        m = self.manifest
        name = SCHEDULER_CLASSES[kind]
        configs = [m["schedulers"]["prior"]] if kind == "prior" else [m["schedulers"]["decoder"], *m["scheduler_alternatives"].values()]
        cfg = next(c for c in configs if c.get("_class_name") == name)
        return getattr(diffusers, name).from_config({k: v for k, v in cfg.items() if k != "_class_name"})

    def prior_pipe(self):
        return prior_pipeline(self)

    def decoder_pipe(self, kind: str, scheduler: str):
        from diffusers import KandinskyV22Img2ImgPipeline, KandinskyV22InpaintPipeline, KandinskyV22Pipeline

        cls = {"text2img": KandinskyV22Pipeline, "img2img": KandinskyV22Img2ImgPipeline,
               "inpaint": KandinskyV22InpaintPipeline}[kind]
        unet = self.unet_inpaint if kind == "inpaint" else self.unet
        pipe = cls(unet=unet, scheduler=self.scheduler(scheduler), movq=self.movq)
        pipe.set_progress_bar_config(disable=True)
        return pipe


# ------------------------------------------------------------------ cases


def case_tokenizer(src: Sources) -> dict:
    cases = []
    for p in TOKENIZER_PROMPTS:
        enc = src.tokenizer(p, padding="max_length", max_length=77, truncation=True)
        cases.append({"prompt": p, "input_ids": [int(x) for x in enc["input_ids"]],
                      "attention_mask": [int(x) for x in enc["attention_mask"]]})
    return {"kind": "tokenizer", "cases": cases}


def case_text_encoder(src: Sources) -> dict:
    cases = []
    for p in TEXT_PROMPTS:
        ids = src.tokenizer(p, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
        out = src.text_encoder(ids)
        cases.append({"prompt": p, "input_ids": i64(ids), "text_embeds": f32(out.text_embeds),
                      "last_hidden_state": f32(out.last_hidden_state)})
    return {"kind": "text_encoder", "cases": cases}


def case_image_encoder(src: Sources, h: int = 200, w: int = 300, seed: int = 1) -> dict:
    from PIL import Image

    rgb = test_image(h, w, seed)
    pv = src.image_processor(Image.fromarray(rgb), return_tensors="pt").pixel_values
    zero = torch.zeros(1, 3, pv.shape[-2], pv.shape[-1])  # get_zero_embed: the encoder's own image size
    return {"kind": "image_encoder", "raw_rgb": i64(rgb), "pixel_values": f32(pv),
            "image_embeds": f32(src.image_encoder(pv).image_embeds),
            "zero_image_embeds": f32(src.image_encoder(zero).image_embeds)}


def case_movq(src: Sources) -> dict:
    rgb = test_image(48, 64, 2)
    image_in = torch.from_numpy(rgb).float().permute(2, 0, 1)[None] / 127.5 - 1
    latents = torch.randn(1, 4, 6, 10, generator=torch.Generator().manual_seed(3))
    encoded = src.movq.encode(image_in).latents
    return {"kind": "movq", "image_rgb": i64(rgb), "image_in": f32(image_in), "encoded": f32(encoded),
            "latents": f32(latents), "decoded": f32(src.movq.decode(latents, force_not_quantize=True).sample),
            "roundtrip": f32(src.movq.decode(encoded, force_not_quantize=True).sample)}


def case_prior(src: Sources, prompt: str, negative_prompt, guidance_scale: float, steps: int, seed: int) -> dict:
    pipe = src.prior_pipe()
    rec = StepRecorder()
    with recorded_noise(seed) as noise:
        out = pipe(prompt, negative_prompt=negative_prompt, guidance_scale=guidance_scale, num_inference_steps=steps,
                   output_type="pt", callback_on_step_end=rec)
    return {"kind": "prior", "scheduler_config": scheduler_dump(pipe.scheduler), "prompt": prompt,
            "negative_prompt": negative_prompt, "guidance_scale": guidance_scale, "num_inference_steps": steps,
            "timesteps": [int(t) for t in pipe.scheduler.timesteps], "noise": [f32(n) for n in noise.draws],
            "steps": rec.steps, "image_embeds": f32(out.image_embeds), "negative_image_embeds": f32(out.negative_image_embeds)}


def case_interpolate(src: Sources, seed: int, conds=None, weights=(0.3, 0.3, 0.4), steps: int = 2,
                     guidance_scale: float = 4.0, negative_prompt: str = "", negative_prior_prompt=None) -> dict:
    """`conds`: prompts (str) and RGB uint8 arrays; default "horse", a 64×64 picture, "a red cat"."""
    from PIL import Image

    conds = conds if conds is not None else ["horse", test_image(64, 64, 4), "a red cat"]
    weights = list(weights)
    pipe = src.prior_pipe()
    with recorded_noise(seed) as noise:
        out = pipe.interpolate([c if isinstance(c, str) else Image.fromarray(c) for c in conds], weights,
                               num_inference_steps=steps, guidance_scale=guidance_scale, negative_prompt=negative_prompt,
                               negative_prior_prompt=negative_prior_prompt)
    return {"kind": "interpolate",
            "conditions": [{"prompt": c} if isinstance(c, str) else {"image_rgb": i64(c)} for c in conds],
            "weights": weights, "num_inference_steps": steps, "guidance_scale": guidance_scale,
            "negative_prompt": negative_prompt, "negative_prior_prompt": negative_prior_prompt,
            "noise": [f32(n) for n in noise.draws],
            "image_embeds": f32(out.image_embeds), "negative_image_embeds": f32(out.negative_image_embeds)}


# ------------------------------------------------------------------ prior kinds (README "Prior kinds")


def _text_embeds(src, prompts: list[str]) -> np.ndarray:
    ids = src.tokenizer(prompts, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
    return src.text_encoder(ids).text_embeds.detach().numpy().astype(np.float32)


def _clip_stats(src) -> tuple[np.ndarray, np.ndarray]:
    return (src.prior.clip_mean.detach().numpy().reshape(-1).astype(np.float64),
            src.prior.clip_std.detach().numpy().reshape(-1).astype(np.float64))


def _zero_image_embeds(src) -> np.ndarray:
    s = src.image_processor.crop_size["height"]
    return src.image_encoder(torch.zeros(1, 3, s, s)).image_embeds.detach().numpy().astype(np.float32)


def fit_linear_prior(src, n: int = 8, lam_scale: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """W [D, D], b [D] by ridge regression (numpy, primal) from caption text embeddings to the normalised
    image embeddings of n test pictures: a small, real fit of the map the engine applies."""
    from PIL import Image

    captions = [f"picture number {k}, {c}" for k, c in enumerate(["red", "green", "blue", "a cat", "a dog", "sunset", "sea", "wood"][:n])]
    X = _text_embeds(src, captions).astype(np.float64)
    imgs = [src.image_processor(Image.fromarray(test_image(64, 64, 20 + k)), return_tensors="pt").pixel_values for k in range(n)]
    Y = np.concatenate([src.image_encoder(pv).image_embeds.detach().numpy() for pv in imgs]).astype(np.float64)
    mean, std = _clip_stats(src)
    Y = (Y - mean) / std
    xm, ym = X.mean(0), Y.mean(0)
    Xc, Yc = X - xm, Y - ym
    lam = lam_scale * np.sum(Xc * Xc) / n
    Wt = np.linalg.solve(Xc.T @ Xc + lam * np.eye(X.shape[1]), Xc.T @ Yc)
    return Wt.T.astype(np.float32), (ym - xm @ Wt).astype(np.float32)


def apply_linear_prior(src, W: np.ndarray, b: np.ndarray, text: np.ndarray) -> np.ndarray:
    """(W t + b) · clip_std + clip_mean, in float64 from float32 inputs."""
    mean, std = _clip_stats(src)
    return ((text.astype(np.float64) @ W.T.astype(np.float64) + b) * std + mean).astype(np.float32)


def no_prior(src, text: np.ndarray) -> np.ndarray:
    """The text embedding's direction at the image embeddings' RMS norm sqrt(sum(mean^2 + std^2))."""
    mean, std = _clip_stats(src)
    t = text.astype(np.float64)
    return (t / np.linalg.norm(t, axis=-1, keepdims=True) * np.sqrt(np.sum(mean**2 + std**2))).astype(np.float32)


def case_prior_linear(src, prompt: str, negative_prompt) -> dict:
    W, b = fit_linear_prior(src)
    text = _text_embeds(src, [prompt] if negative_prompt is None else [prompt, negative_prompt])
    emb = apply_linear_prior(src, W, b, text)
    neg = _zero_image_embeds(src) if negative_prompt is None else emb[1:2]
    return {"kind": "prior_linear", "prompt": prompt, "negative_prompt": negative_prompt,
            "linear_prior": {"weight": f32(W), "bias": f32(b), "space": "text_embeds->normalised_image_embeds"},
            "text_embeds": f32(text), "image_embeds": f32(emb[0:1]), "negative_image_embeds": f32(neg)}


def case_prior_none(src, prompt: str, negative_prompt) -> dict:
    text = _text_embeds(src, [prompt] if negative_prompt is None else [prompt, negative_prompt])
    emb = no_prior(src, text)
    neg = _zero_image_embeds(src) if negative_prompt is None else emb[1:2]
    return {"kind": "prior_none", "prompt": prompt, "negative_prompt": negative_prompt, "text_embeds": f32(text),
            "image_embeds": f32(emb[0:1]), "negative_image_embeds": f32(neg)}


def case_prior_blend(src, prompt: str, negative_prompt, guidance_scale: float, steps: int, seed: int,
                     linear_weight: float) -> dict:
    """(1 - w) · diffusers' prior + w · the linear prior, for the prompt and the negative embedding alike."""
    diffusion = case_prior(src, prompt, negative_prompt, guidance_scale, steps, seed)
    linear = case_prior_linear(src, prompt, negative_prompt)

    def arr(t):
        return np.frombuffer(base64.b64decode(t["b64"]), "<f4").reshape(t["shape"]).astype(np.float64)

    def mix(key):
        return ((1 - linear_weight) * arr(diffusion[key]) + linear_weight * arr(linear[key])).astype(np.float32)

    return {**{k: v for k, v in diffusion.items() if k not in ("image_embeds", "negative_image_embeds")},
            "kind": "prior_blend", "linear_weight": linear_weight, "linear_prior": linear["linear_prior"],
            "text_embeds": linear["text_embeds"],
            "diffusion_image_embeds": diffusion["image_embeds"], "linear_image_embeds": linear["image_embeds"],
            "image_embeds": f32(mix("image_embeds")), "negative_image_embeds": f32(mix("negative_image_embeds"))}


def prior_kind_cases(src):
    """(file stem, builder) for the prior-kind cases; they need only the prior side (text, image encoders, prior)."""
    yield "prior_linear_neg", lambda: case_prior_linear(src, "a red cat", "low quality")
    yield "prior_none", lambda: case_prior_none(src, "A corgi gliding on the wave", None)
    yield "prior_blend_g4_s3", lambda: case_prior_blend(src, "horse", None, 4.0, 3, 15, 0.3)


def _decoder_embeds(src: Sources) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    d = src.prior.config.embedding_dim
    return torch.randn(1, d, generator=g), torch.randn(1, d, generator=g)


def case_text2img(src: Sources, scheduler: str, height: int, width: int, steps: int, seed: int,
                  guidance_scale: float = 4.0) -> dict:
    ie, ne = _decoder_embeds(src)
    pipe = src.decoder_pipe("text2img", scheduler)
    rec = StepRecorder()
    with recorded_noise(seed) as noise:
        out = pipe(image_embeds=ie, negative_image_embeds=ne, height=height, width=width, num_inference_steps=steps,
                   guidance_scale=guidance_scale, output_type="np", callback_on_step_end=rec)
    return {"kind": "text2img", "scheduler": scheduler, "scheduler_config": scheduler_dump(pipe.scheduler),
            "height": height, "width": width, "guidance_scale": guidance_scale, "num_inference_steps": steps,
            "timesteps": [int(t) for t in pipe.scheduler.timesteps], "image_embeds": f32(ie),
            "negative_image_embeds": f32(ne), "noise": [f32(n) for n in noise.draws], "steps": rec.steps,
            "image": f32(out.images)}


def case_img2img(src: Sources, scheduler: str, strength: float, steps: int, seed: int, height: int = 64,
                 width: int = 64) -> dict:
    """Note: diffusers 0.42 resizes the input to the transposed size when height != width (see tools/parity/reference.ts)."""
    from PIL import Image

    ie, ne = _decoder_embeds(src)
    rgb = test_image(height, width, 5)
    pipe = src.decoder_pipe("img2img", scheduler)
    rec = StepRecorder()
    with recorded_noise(seed) as noise:
        out = pipe(image=Image.fromarray(rgb), image_embeds=ie, negative_image_embeds=ne, height=height, width=width,
                   strength=strength, num_inference_steps=steps, guidance_scale=4.0, output_type="np",
                   callback_on_step_end=rec)
    return {"kind": "img2img", "scheduler": scheduler, "scheduler_config": scheduler_dump(pipe.scheduler),
            "height": height, "width": width, "strength": strength, "guidance_scale": 4.0, "num_inference_steps": steps,
            "init_image_rgb": i64(rgb), "image_embeds": f32(ie), "negative_image_embeds": f32(ne),
            "noise": [f32(n) for n in noise.draws], "steps": rec.steps, "image": f32(out.images)}


def case_inpaint(src: Sources, scheduler: str, steps: int, seed: int, mask=None) -> dict:
    """`mask`: float [H, W], 1 = repaint; default a 24×32 rectangle in a 64×64 frame."""
    from PIL import Image

    ie, ne = _decoder_embeds(src)
    if mask is None:
        mask = np.zeros((64, 64), np.float32)
        mask[16:40, 24:56] = 1.0  # 1 = repaint
    height, width = mask.shape
    rgb = test_image(height, width, 5)
    pipe = src.decoder_pipe("inpaint", scheduler)
    rec = StepRecorder()
    with recorded_noise(seed) as noise:
        out = pipe(image=Image.fromarray(rgb), mask_image=mask.copy(), image_embeds=ie, negative_image_embeds=ne,
                   height=height, width=width, num_inference_steps=steps, guidance_scale=4.0, output_type="np",
                   callback_on_step_end=rec)
    return {"kind": "inpaint", "scheduler": scheduler, "scheduler_config": scheduler_dump(pipe.scheduler),
            "height": height, "width": width, "mask_convention": "1 = repaint, 0 = keep", "guidance_scale": 4.0,
            "num_inference_steps": steps, "init_image_rgb": i64(rgb), "mask": f32(mask), "image_embeds": f32(ie),
            "negative_image_embeds": f32(ne), "noise": [f32(n) for n in noise.draws], "steps": rec.steps,
            "image": f32(out.images)}


def cases(src: Sources):
    """(file stem, builder) for every case; the same set as tests/golden."""
    yield "tokenizer", lambda: case_tokenizer(src)
    yield "text_encoder", lambda: case_text_encoder(src)
    yield "image_encoder", lambda: case_image_encoder(src)
    yield "movq", lambda: case_movq(src)
    yield "prior_g1_s3", lambda: case_prior(src, "a red cat", None, 1.0, 3, 11)
    yield "prior_horse_g4_s2", lambda: case_prior(src, "horse", None, 4.0, 2, 12)
    yield "prior_neg_g4_s3", lambda: case_prior(src, "a red cat", "low quality", 4.0, 3, 13)
    yield "interpolate", lambda: case_interpolate(src, 14)
    yield "t2i_ddpm_64x64", lambda: case_text2img(src, "ddpm", 64, 64, 3, 21)
    yield "t2i_ddpm_w96_h64", lambda: case_text2img(src, "ddpm", 64, 96, 4, 22)
    yield "t2i_ddim_64x64", lambda: case_text2img(src, "ddim", 64, 64, 5, 23)
    yield "t2i_dpmpp_64x64", lambda: case_text2img(src, "dpmpp", 64, 64, 6, 24)
    yield "img2img_ddpm", lambda: case_img2img(src, "ddpm", 0.6, 5, 25)
    yield "img2img_dpmpp", lambda: case_img2img(src, "dpmpp", 0.7, 8, 26)
    if src.unet_inpaint is not None:
        yield "inpaint_ddpm_rect", lambda: case_inpaint(src, "ddpm", 4, 27)
    yield from prior_kind_cases(src)


def extended_cases(src: Sources):
    """(file stem, builder) for cases beyond the shipped set: other sizes, guidance ≤ 1, negative prompts,
    negative weights, every scheduler in every decoder mode, irregular and soft masks."""
    yy, xx = np.mgrid[0:64, 0:64]
    circle = (((yy - 30) ** 2 + (xx - 36) ** 2) < 15 ** 2).astype(np.float32)
    soft = np.random.default_rng(0).random((64, 64)).astype(np.float32)
    edge = np.zeros((64, 128), np.float32)
    edge[:, 96:] = 1
    edge[0:8, :] = 1
    yield "x_image_encoder_portrait", lambda: case_image_encoder(src, 300, 200, 1)
    yield "x_image_encoder_small", lambda: case_image_encoder(src, 50, 80, 2)
    yield "x_prior_emptyneg_g4", lambda: case_prior(src, "a castle", "", 4.0, 4, 31)
    yield "x_prior_neg_g1", lambda: case_prior(src, "a castle", "ugly", 1.0, 3, 32)
    yield "x_prior_ru_g6_s5", lambda: case_prior(src, "Кот в сапогах", None, 6.0, 5, 33)
    yield "x_interp_negs", lambda: case_interpolate(src, 34, ["a dog", test_image(80, 120, 3)], (0.7, 0.5), 3, 4.0,
                                                    "low quality", "blurry")
    yield "x_interp_neg_weight", lambda: case_interpolate(src, 35, [test_image(64, 64, 5), "sunset", test_image(96, 64, 6)],
                                                          (1.0, -0.3, 0.3), 2, 1.0)
    yield "x_t2i_ddpm_g1", lambda: case_text2img(src, "ddpm", 64, 64, 3, 41, guidance_scale=1.0)
    yield "x_t2i_ddim_h80_w144", lambda: case_text2img(src, "ddim", 80, 144, 4, 42, guidance_scale=5.0)
    yield "x_t2i_dpmpp_128x64_s10", lambda: case_text2img(src, "dpmpp", 128, 64, 10, 43, guidance_scale=3.0)
    yield "x_i2i_ddim_s05", lambda: case_img2img(src, "ddim", 0.5, 6, 44)
    yield "x_i2i_ddpm_s1", lambda: case_img2img(src, "ddpm", 1.0, 3, 45)
    yield "x_i2i_dpmpp_64x128", lambda: case_img2img(src, "dpmpp", 0.8, 7, 46, height=64, width=128)
    if src.unet_inpaint is not None:
        yield "x_inp_dpmpp_circle", lambda: case_inpaint(src, "dpmpp", 5, 47, circle)
        yield "x_inp_ddim_soft", lambda: case_inpaint(src, "ddim", 4, 48, soft)
        yield "x_inp_ddpm_edge_64x128", lambda: case_inpaint(src, "ddpm", 3, 49, edge)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.export.golden", description=__doc__.split("\n\n")[0])
    p.add_argument("--bundle", required=True, type=Path, help="bundle folder (its manifest gives the scheduler configs)")
    p.add_argument("--prior", type=Path, help="the prior checkpoint folder the bundle was exported from")
    p.add_argument("--decoder", type=Path, help="the decoder checkpoint folder")
    p.add_argument("--from-bundle", action="store_true",
                   help="no checkpoints: run diffusers' prior pipeline over the bundle's own ONNX stages (onnxruntime) "
                        "and write the prior-kind cases only (tools/export/onnx_sources.py)")
    p.add_argument("--inpaint", type=Path, help="the inpaint checkpoint folder (adds the inpaint case)")
    p.add_argument("--out", required=True, type=Path, help="folder for the golden .json files")
    p.add_argument("--only", nargs="+", help="write only these cases (file stems)")
    p.add_argument("--set", choices=["shipped", "extended", "all"], default="shipped",
                   help="shipped: the same files as tests/golden; extended: more sizes, schedulers, masks and negatives")
    args = p.parse_args(argv)
    if not (args.bundle / "manifest.json").exists():
        raise SystemExit(f"{args.bundle}/manifest.json not found: --bundle must be an exported bundle folder")
    try:
        import torchvision  # noqa: F401
    except ImportError:
        raise SystemExit("torchvision is missing: transformers then preprocesses images with Pillow, which rounds "
                         "differently from the torchvision backend the engine reproduces; pip install -r tools/export/requirements.txt")
    torch.set_grad_enabled(False)
    if args.from_bundle:
        from .onnx_sources import OnnxSources

        src = OnnxSources(args.bundle)
        chosen = [prior_kind_cases]
    else:
        if args.prior is None or args.decoder is None:
            raise SystemExit("--prior and --decoder are required (or --from-bundle for the prior-kind cases)")
        if read_json(args.bundle / "manifest.json").get("family") == "kandinsky-2.1":
            from . import golden21  # docs/kandinsky-2-1.md: the cases of tests/golden-2-1

            if args.set != "shipped":
                raise SystemExit("--set extended/all: Kandinsky 2.1 has the shipped set (tests/golden-2-1) only")
            src = golden21.Sources21(args.bundle, args.prior, args.decoder, args.inpaint)
            chosen = [golden21.cases]
        else:
            src = Sources(args.bundle, args.prior, args.decoder, args.inpaint)
            chosen = {"shipped": [cases], "extended": [extended_cases], "all": [cases, extended_cases]}[args.set]
    args.out.mkdir(parents=True, exist_ok=True)
    for stem, build in (c for gen in chosen for c in gen(src)):
        if args.only and stem not in args.only:
            continue
        data = build()
        (args.out / f"{stem}.json").write_text(json.dumps(json_safe(data), separators=(",", ":"), allow_nan=False))
        print(f"wrote {args.out / (stem + '.json')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
