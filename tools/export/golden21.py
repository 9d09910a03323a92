"""Golden cases for Kandinsky 2.1 bundles (docs/kandinsky-2-1.md, "Golden cases").

`python -m tools.export.golden` dispatches here when the bundle's manifest says `family: kandinsky-2.1`.
The reference is diffusers 0.42's KandinskyPriorPipeline (and its interpolate), KandinskyPipeline,
KandinskyImg2ImgPipeline and KandinskyInpaintPipeline, fp32 on the CPU, with golden.py's recorded noise
stream and tensor encoding. Every case carries `"family": "kandinsky-2.1"`.

Decoder cases use seeded random image embeddings (as the 2.2 cases) and add the prompt, the negative
prompt and the reference's decoder text conditioning after CFG batching, taken from the pipeline's own
`_encode_prompt` (pipeline_kandinsky.py): `prompt_embeds` [B, D] and `text_encoder_hidden_states` [B, 77, Hm],
B = 2 ([negative, prompt]) when guidance > 1.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .bundle import read_json
from .golden import (Sources, case_image_encoder, prior_pipeline, case_interpolate, case_movq,
                     case_text_encoder, case_tokenizer, f32, i64, recorded_noise, scheduler_dump, test_image)

FAMILY = "kandinsky-2.1"
MULTILINGUAL_PROMPTS = [
    "horse", "A corgi gliding on the wave", "Кот в сапогах, акварель", "Ёжик в тумане, hedgehog in the fog",
    "Рыжий кот on the beach, oil painting", "", "  multiple   spaces\tand\nnewlines  ", "ALL CAPS и ЗАГЛАВНЫЕ буквы",
    "Ünïcödé café — naïve 🎨 emoji", "numbers 1234567, punctuation!?.;:",
    " ".join(["a very long prompt"] * 40), " ".join(["очень длинный запрос"] * 30),
]
MULTILINGUAL_TEXT_PROMPTS = ["horse", "", "Кот в сапогах, акварель", "Рыжий кот on the beach, oil painting"]


class Sources21(Sources):
    """The diffusers components of the three 2.1 folders, fp32, CPU, no network: 2.2's plus the multilingual encoder."""

    def __init__(self, bundle: Path, prior: Path, decoder: Path, inpaint: Path | None):
        from diffusers.pipelines.kandinsky.text_encoder import MultilingualCLIP
        from transformers import AutoTokenizer

        # Imported before recorded_noise patches randn_tensor in every loaded diffusers module.
        from diffusers import (KandinskyImg2ImgPipeline, KandinskyInpaintPipeline, KandinskyPipeline,  # noqa: F401
                               KandinskyPriorPipeline)

        family = read_json(Path(bundle) / "manifest.json").get("family")
        if family != FAMILY:
            raise SystemExit(f"{bundle}: not a {FAMILY} bundle (family {family!r})")
        super().__init__(bundle, prior, decoder, inpaint)
        kw = dict(local_files_only=True)
        self.text_encoder_multilingual = MultilingualCLIP.from_pretrained(Path(decoder) / "text_encoder", **kw).eval()
        self.tokenizer_multilingual = AutoTokenizer.from_pretrained(Path(decoder) / "tokenizer", **kw)

    def prior_pipe(self):
        return prior_pipeline(self, FAMILY)

    def decoder_pipe(self, kind: str, scheduler: str):
        from diffusers import KandinskyImg2ImgPipeline, KandinskyInpaintPipeline, KandinskyPipeline

        cls = {"text2img": KandinskyPipeline, "img2img": KandinskyImg2ImgPipeline, "inpaint": KandinskyInpaintPipeline}[kind]
        unet = self.unet_inpaint if kind == "inpaint" else self.unet
        pipe = cls(text_encoder=self.text_encoder_multilingual, tokenizer=self.tokenizer_multilingual, unet=unet,
                   scheduler=self.scheduler(scheduler), movq=self.movq)
        pipe.set_progress_bar_config(disable=True)
        return pipe


def _tag(case: dict) -> dict:
    """`"family"` right after `"kind"`."""
    return {"kind": case["kind"], "family": FAMILY, **{k: v for k, v in case.items() if k != "kind"}}


def _multilingual(src: Sources21, prompt: str):
    # As KandinskyPipeline._encode_prompt tokenises (pipeline_kandinsky.py).
    return src.tokenizer_multilingual(prompt, padding="max_length", truncation=True, max_length=77,
                                      return_attention_mask=True, add_special_tokens=True, return_tensors="pt")


def case_tokenizer_multilingual(src: Sources21) -> dict:
    cases = []
    for p in MULTILINGUAL_PROMPTS:
        enc = _multilingual(src, p)
        cases.append({"prompt": p, "input_ids": [int(x) for x in enc.input_ids[0]],
                      "attention_mask": [int(x) for x in enc.attention_mask[0]]})
    return {"kind": "tokenizer", "family": FAMILY, "tokenizer": "multilingual", "cases": cases}


def case_text_encoder_multilingual(src: Sources21) -> dict:
    cases = []
    for p in MULTILINGUAL_TEXT_PROMPTS:
        enc = _multilingual(src, p)
        text_embeds, hidden = src.text_encoder_multilingual(input_ids=enc.input_ids, attention_mask=enc.attention_mask)
        cases.append({"prompt": p, "input_ids": i64(enc.input_ids), "attention_mask": i64(enc.attention_mask),
                      "text_embeds": f32(text_embeds), "last_hidden_state": f32(hidden)})
    return {"kind": "text_encoder_multilingual", "family": FAMILY, "cases": cases}


def _record_scheduler_steps(scheduler) -> list[dict]:
    """KandinskyPriorPipeline has no step callback: keep the sample after every scheduler step (what 2.2's
    callback_on_step_end records as `latents`)."""
    steps: list[dict] = []
    step = scheduler.step

    def recording(model_output, timestep, sample, *args, **kwargs):
        out = step(model_output, timestep, sample, *args, **kwargs)
        steps.append({"t": int(timestep), "latents": f32(out.prev_sample if hasattr(out, "prev_sample") else out[0])})
        return out

    scheduler.step = recording
    return steps


def case_prior(src: Sources21, prompt: str, negative_prompt, guidance_scale: float, steps: int, seed: int) -> dict:
    """golden.case_prior's format, from KandinskyPriorPipeline."""
    pipe = src.prior_pipe()
    recorded = _record_scheduler_steps(pipe.scheduler)
    with recorded_noise(seed) as noise:
        out = pipe(prompt, negative_prompt=negative_prompt, guidance_scale=guidance_scale, num_inference_steps=steps,
                   output_type="pt")
    return {"kind": "prior", "family": FAMILY, "scheduler_config": scheduler_dump(pipe.scheduler), "prompt": prompt,
            "negative_prompt": negative_prompt, "guidance_scale": guidance_scale, "num_inference_steps": steps,
            "timesteps": [int(t) for t in pipe.scheduler.timesteps], "noise": [f32(n) for n in noise.draws],
            "steps": recorded, "image_embeds": f32(out.image_embeds), "negative_image_embeds": f32(out.negative_image_embeds)}


def _decoder_embeds(src: Sources21) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    d = src.prior.config.embedding_dim
    return torch.randn(1, d, generator=g), torch.randn(1, d, generator=g)


class _Steps:
    """The 2.1 pipelines' `callback(step, t, latents)` (they have no callback_on_step_end)."""

    def __init__(self):
        self.steps: list[dict] = []

    def __call__(self, i, t, latents):
        self.steps.append({"t": int(t), "latents": f32(latents)})


def _text_conditioning(pipe, prompt: str, negative_prompt, guidance_scale: float) -> dict:
    prompt_embeds, hidden, _ = pipe._encode_prompt(prompt, torch.device("cpu"), 1, guidance_scale > 1.0, negative_prompt)
    return {"prompt_embeds": f32(prompt_embeds), "text_encoder_hidden_states": f32(hidden)}


def case_text2img(src: Sources21, scheduler: str, height: int, width: int, steps: int, seed: int, prompt: str,
                  negative_prompt=None, guidance_scale: float = 4.0) -> dict:
    ie, ne = _decoder_embeds(src)
    pipe = src.decoder_pipe("text2img", scheduler)
    rec = _Steps()
    with recorded_noise(seed) as noise:
        out = pipe(prompt, image_embeds=ie, negative_image_embeds=ne, negative_prompt=negative_prompt, height=height,
                   width=width, num_inference_steps=steps, guidance_scale=guidance_scale, output_type="np", callback=rec)
    return {"kind": "text2img", "family": FAMILY, "scheduler": scheduler, "scheduler_config": scheduler_dump(pipe.scheduler),
            "prompt": prompt, "negative_prompt": negative_prompt,
            "height": height, "width": width, "guidance_scale": guidance_scale, "num_inference_steps": steps,
            "timesteps": [int(t) for t in pipe.scheduler.timesteps], "image_embeds": f32(ie),
            "negative_image_embeds": f32(ne), **_text_conditioning(pipe, prompt, negative_prompt, guidance_scale),
            "noise": [f32(n) for n in noise.draws], "steps": rec.steps, "image": f32(out.images)}


def case_img2img(src: Sources21, scheduler: str, strength: float, steps: int, seed: int, prompt: str,
                 negative_prompt=None, height: int = 64, width: int = 64, guidance_scale: float = 4.0) -> dict:
    """KandinskyImg2ImgPipeline: its own add_noise (betas linspace(0.0001, 0.02, 1000)) at
    latent_timestep = int(num_train_timesteps * strength) - 2 (pipeline_kandinsky_img2img.py)."""
    from PIL import Image

    ie, ne = _decoder_embeds(src)
    rgb = test_image(height, width, 5)
    pipe = src.decoder_pipe("img2img", scheduler)
    rec = _Steps()
    with recorded_noise(seed) as noise:
        out = pipe(prompt, image=Image.fromarray(rgb), image_embeds=ie, negative_image_embeds=ne,
                   negative_prompt=negative_prompt, height=height, width=width, strength=strength,
                   num_inference_steps=steps, guidance_scale=guidance_scale, output_type="np", callback=rec)
    latent_timestep = int(pipe.scheduler.config.num_train_timesteps * strength) - 2
    return {"kind": "img2img", "family": FAMILY, "scheduler": scheduler, "scheduler_config": scheduler_dump(pipe.scheduler),
            "prompt": prompt, "negative_prompt": negative_prompt,
            "height": height, "width": width, "strength": strength, "guidance_scale": guidance_scale,
            "num_inference_steps": steps, "latent_timestep": latent_timestep,
            "init_image_rgb": i64(rgb), "image_embeds": f32(ie), "negative_image_embeds": f32(ne),
            **_text_conditioning(pipe, prompt, negative_prompt, guidance_scale),
            "noise": [f32(n) for n in noise.draws], "steps": rec.steps, "image": f32(out.images)}


def case_inpaint(src: Sources21, scheduler: str, steps: int, seed: int, prompt: str, negative_prompt=None,
                 mask=None, guidance_scale: float = 4.0) -> dict:
    """`mask`: float [H, W], 1 = repaint; default a 24×32 rectangle in a 64×64 frame. No reset of the kept
    region between steps (KandinskyInpaintPipeline, unlike 2.2's)."""
    from PIL import Image

    ie, ne = _decoder_embeds(src)
    if mask is None:
        mask = np.zeros((64, 64), np.float32)
        mask[16:40, 24:56] = 1.0
    height, width = mask.shape
    rgb = test_image(height, width, 5)
    pipe = src.decoder_pipe("inpaint", scheduler)
    rec = _Steps()
    with recorded_noise(seed) as noise:
        out = pipe(prompt, image=Image.fromarray(rgb), mask_image=mask.copy(), image_embeds=ie, negative_image_embeds=ne,
                   negative_prompt=negative_prompt, height=height, width=width, num_inference_steps=steps,
                   guidance_scale=guidance_scale, output_type="np", callback=rec)
    return {"kind": "inpaint", "family": FAMILY, "scheduler": scheduler, "scheduler_config": scheduler_dump(pipe.scheduler),
            "prompt": prompt, "negative_prompt": negative_prompt,
            "height": height, "width": width, "mask_convention": "1 = repaint, 0 = keep", "guidance_scale": guidance_scale,
            "num_inference_steps": steps, "timesteps": [int(t) for t in pipe.scheduler.timesteps],
            "init_image_rgb": i64(rgb), "mask": f32(mask), "image_embeds": f32(ie), "negative_image_embeds": f32(ne),
            **_text_conditioning(pipe, prompt, negative_prompt, guidance_scale),
            "noise": [f32(n) for n in noise.draws], "steps": rec.steps, "image": f32(out.images)}


def cases(src: Sources21):
    """(file stem, builder) for every 2.1 case of tests/golden-2-1."""
    yield "tokenizer_multilingual", lambda: case_tokenizer_multilingual(src)
    yield "tokenizer", lambda: _tag(case_tokenizer(src))
    yield "text_encoder", lambda: _tag(case_text_encoder(src))
    yield "text_encoder_multilingual", lambda: case_text_encoder_multilingual(src)
    yield "image_encoder", lambda: _tag(case_image_encoder(src))
    yield "movq", lambda: _tag(case_movq(src))
    yield "prior_g1_s3", lambda: case_prior(src, "a red cat", None, 1.0, 3, 11)
    yield "prior_neg_g4_s3", lambda: case_prior(src, "a red cat", "low quality", 4.0, 3, 13)
    yield "interpolate", lambda: _tag(case_interpolate(src, 14))
    yield "t2i_ddim_64x64", lambda: case_text2img(src, "ddim", 64, 64, 4, 21, "a red cat")
    yield "t2i_ddpm_w96_h64", lambda: case_text2img(src, "ddpm", 64, 96, 3, 22, "A corgi gliding on the wave")
    yield "t2i_dpmpp_neg_64x64", lambda: case_text2img(src, "dpmpp", 64, 64, 5, 23, "horse", "low quality")
    yield "t2i_ddim_g1", lambda: case_text2img(src, "ddim", 64, 64, 3, 24, "a castle", guidance_scale=1.0)
    yield "t2i_ddim_ru", lambda: case_text2img(src, "ddim", 64, 64, 3, 25, "Кот в сапогах, акварель", "плохое качество")
    yield "img2img_ddim", lambda: case_img2img(src, "ddim", 0.6, 5, 26, "a red cat")
    yield "img2img_dpmpp", lambda: case_img2img(src, "dpmpp", 0.7, 4, 27, "Рыжий кот on the beach, oil painting")
    if src.unet_inpaint is not None:
        yield "inpaint_ddim_rect", lambda: case_inpaint(src, "ddim", 4, 28, "a red cat")


__all__ = ["Sources21", "cases", "FAMILY"]
