"""Prior-side golden sources from an exported bundle alone, for bundles whose PyTorch weights are gone.

The shipped tiny bundle (public/models/tiny-kandinsky-2-2) is the only copy of its random weights:
its PyTorch source was not kept. To generate golden cases for it, `OnnxSources` wraps the bundle's
`text_encoder`, `image_encoder` and `prior` graphs (onnxruntime, CPU) as stand-ins for the PyTorch
modules and runs diffusers' own `KandinskyV22PriorPipeline` (its loop, guidance, UnCLIP scheduler and
de-normalisation) over them. The stages themselves are checked against PyTorch by the shipped
text_encoder, image_encoder and prior cases; what such a case adds is the pipeline on top.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from .bundle import read_json


class _Out(dict):
    """Model output readable as out.x and out["x"], like transformers' ModelOutput."""

    __getattr__ = dict.__getitem__


class _OnnxModule(torch.nn.Module):
    """A torch.nn.Module over one onnxruntime session (CPU, fp32)."""

    def __init__(self, path: Path):
        import onnxruntime as ort

        super().__init__()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.register_buffer("_anchor", torch.zeros(1), persistent=False)  # gives the pipeline a device and dtype

    @property
    def dtype(self):
        return torch.float32

    @property
    def device(self):
        return torch.device("cpu")

    def run(self, **feeds) -> list[np.ndarray]:
        return self.session.run(None, {k: np.ascontiguousarray(v) for k, v in feeds.items()})


class OnnxTextEncoder(_OnnxModule):
    def forward(self, input_ids, attention_mask=None):
        text_embeds, last_hidden_state = self.run(input_ids=input_ids.cpu().numpy().astype(np.int64))
        return _Out(text_embeds=torch.from_numpy(text_embeds), last_hidden_state=torch.from_numpy(last_hidden_state))


class OnnxImageEncoder(_OnnxModule):
    def __init__(self, path: Path, image_size: int):
        super().__init__(path)
        self.config = SimpleNamespace(image_size=image_size)

    def forward(self, pixel_values):
        (image_embeds,) = self.run(pixel_values=pixel_values.cpu().numpy().astype(np.float32))
        return _Out(image_embeds=torch.from_numpy(image_embeds))


class OnnxPrior(_OnnxModule):
    def __init__(self, path: Path, stats: dict, embedding_dim: int):
        super().__init__(path)
        self.config = SimpleNamespace(embedding_dim=embedding_dim)
        self.clip_mean = torch.tensor(stats["clip_mean"], dtype=torch.float32)[None]
        self.clip_std = torch.tensor(stats["clip_std"], dtype=torch.float32)[None]

    def forward(self, hidden_states, timestep, proj_embedding, encoder_hidden_states, attention_mask=None):
        b = hidden_states.shape[0]
        t = torch.as_tensor(timestep, dtype=torch.float32).reshape(-1).expand(b)
        (pred,) = self.run(hidden_states=hidden_states.numpy().astype(np.float32), timestep=t.numpy().astype(np.float32),
                           proj_embedding=proj_embedding.numpy().astype(np.float32),
                           encoder_hidden_states=encoder_hidden_states.numpy().astype(np.float32),
                           attention_mask=attention_mask.numpy().astype(np.int64))
        return _Out(predicted_image_embedding=torch.from_numpy(pred))

    def post_process_latents(self, latents):
        return latents * self.clip_std + self.clip_mean


class OnnxSources:
    """The prior-side part of golden.Sources, from a bundle folder (no PyTorch checkpoint)."""

    def __init__(self, bundle: Path):
        from transformers import CLIPImageProcessor, CLIPTokenizerFast

        bundle = Path(bundle)
        self.manifest = read_json(bundle / "manifest.json")
        m = self.manifest
        stages = m["stages"]
        d = m["embedding_dim"]
        self.text_encoder = OnnxTextEncoder(bundle / stages["text_encoder"]["file"]).eval()
        self.image_encoder = OnnxImageEncoder(bundle / stages["image_encoder"]["file"], m["image_processor"]["crop_size"]).eval()
        stats = json.loads((bundle / stages["prior"].get("stats", "prior_stats.json")).read_text())
        self.prior = OnnxPrior(bundle / stages["prior"]["file"], stats, d).eval()
        self.tokenizer = CLIPTokenizerFast(
            tokenizer_file=str(bundle / m["text"]["tokenizer"]), bos_token="<|startoftext|>", eos_token="<|endoftext|>",
            unk_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=m["text"]["max_length"],
        )
        ip = m["image_processor"]
        self.image_processor = CLIPImageProcessor(
            crop_size={"height": ip["crop_size"], "width": ip["crop_size"]}, size={"shortest_edge": ip["size"]},
            do_center_crop=True, do_normalize=True, do_resize=True, image_mean=ip["mean"], image_std=ip["std"], resample=3,
        )
        self.unet = self.movq = self.unet_inpaint = None

    def scheduler(self, kind: str):
        from diffusers import UnCLIPScheduler

        if kind != "prior":
            raise ValueError("OnnxSources has the prior side only")
        return UnCLIPScheduler.from_config({k: v for k, v in self.manifest["schedulers"]["prior"].items() if k != "_class_name"})

    def prior_pipe(self):
        from .golden import prior_pipeline

        return prior_pipeline(self)


# ---------------------------------------------------------------------------- Kandinsky 2.1
#
# The same idea for the 2.1 decoder side: the bundle's text_encoder_multilingual, unet, unet_inpaint and MoVQ
# graphs as stand-ins for diffusers' MultilingualCLIP, UNet2DConditionModel and VQModel, so diffusers' own
# KandinskyPipeline / Img2Img / Inpaint loops run over onnxruntime. `replay_case` feeds a golden case's
# recorded noise through them and reports the errors per quantity: a check of the bundle against the
# goldens that needs no TypeScript.


class OnnxMultilingualTextEncoder(_OnnxModule):
    def forward(self, input_ids, attention_mask):
        text_embeds, hidden = self.run(input_ids=input_ids.cpu().numpy().astype(np.int64),
                                       attention_mask=attention_mask.cpu().numpy().astype(np.int64))
        return torch.from_numpy(text_embeds), torch.from_numpy(hidden)


class OnnxUNet21(_OnnxModule):
    def __init__(self, path: Path, in_channels: int):
        super().__init__(path)
        self.config = SimpleNamespace(in_channels=in_channels)

    def forward(self, sample, timestep, encoder_hidden_states, added_cond_kwargs, return_dict=False):
        b = sample.shape[0]
        t = torch.as_tensor(timestep, dtype=torch.float32).reshape(-1).expand(b)
        (out,) = self.run(sample=sample.numpy().astype(np.float32), timestep=t.numpy().astype(np.float32),
                          encoder_hidden_states=encoder_hidden_states.numpy().astype(np.float32),
                          text_embeds=added_cond_kwargs["text_embeds"].numpy().astype(np.float32),
                          image_embeds=added_cond_kwargs["image_embeds"].numpy().astype(np.float32))
        return (torch.from_numpy(out),)


class OnnxMovq(torch.nn.Module):
    def __init__(self, encoder: Path, decoder: Path, movq: dict):
        super().__init__()
        self.encoder = _OnnxModule(encoder)
        self.decoder = _OnnxModule(decoder)
        self.config = SimpleNamespace(block_out_channels=[0] * (int(np.log2(movq["scale_factor"])) + 1),
                                      latent_channels=movq["latent_channels"])
        self.register_buffer("_anchor", torch.zeros(1), persistent=False)

    dtype = _OnnxModule.dtype
    device = _OnnxModule.device

    def encode(self, image):
        (latents,) = self.encoder.run(image=image.numpy().astype(np.float32))
        return _Out(latents=torch.from_numpy(latents))

    def decode(self, latents, force_not_quantize=True):
        (image,) = self.decoder.run(latents=latents.numpy().astype(np.float32))
        return _Out(sample=torch.from_numpy(image))


class OnnxSources21:
    """golden21.Sources21's decoder side from a 2.1 bundle's ONNX stages (tokenizer: the bundle's own)."""

    def __init__(self, bundle: Path):
        from transformers import XLMRobertaTokenizerFast

        bundle = Path(bundle)
        self.manifest = m = read_json(bundle / "manifest.json")
        stages = m["stages"]
        self.text_encoder_multilingual = OnnxMultilingualTextEncoder(bundle / stages["text_encoder_multilingual"]["file"]).eval()
        self.tokenizer_multilingual = XLMRobertaTokenizerFast(tokenizer_file=str(bundle / m["text_multilingual"]["tokenizer"]),
                                                              model_max_length=m["text_multilingual"]["max_length"])
        self.unet = OnnxUNet21(bundle / stages["unet"]["file"], 4).eval()
        self.unet_inpaint = OnnxUNet21(bundle / stages["unet_inpaint"]["file"], 9).eval() if "unet_inpaint" in stages else None
        self.movq = OnnxMovq(bundle / stages["movq_encoder"]["file"], bundle / stages["movq_decoder"]["file"], m["movq"]).eval()

    def scheduler(self, kind: str):
        from .golden21 import Sources21

        return Sources21.scheduler(self, kind)

    def decoder_pipe(self, kind: str, scheduler: str):
        from .golden21 import Sources21

        return Sources21.decoder_pipe(self, kind, scheduler)


def _tensor(t: dict) -> np.ndarray:
    import base64

    return np.frombuffer(base64.b64decode(t["b64"]), "<f4").reshape(t["shape"])


@contextmanager
def replayed(draws: list[dict]):
    """diffusers' randn_tensor (every loaded diffusers module) returns a case's recorded draws, in order."""
    import sys

    from diffusers.utils import torch_utils

    original = torch_utils.randn_tensor
    queue = [torch.from_numpy(_tensor(d).copy()) for d in draws]

    def replay(shape, generator=None, device=None, dtype=None, layout=None):
        x = queue.pop(0)
        assert tuple(x.shape) == tuple(shape), (tuple(x.shape), tuple(shape))
        return x

    patched = [m for m in list(sys.modules.values()) if getattr(m, "__name__", "").startswith("diffusers")
               and getattr(m, "randn_tensor", None) is original]
    for m in patched:
        m.randn_tensor = replay
    try:
        yield queue
    finally:
        for m in patched:
            m.randn_tensor = original


def replay_prior_case(bundle: Path, case: dict) -> dict[str, float]:
    """A 2.1 `prior` or `interpolate` golden case through diffusers' KandinskyPriorPipeline over the bundle's
    text_encoder, image_encoder and prior graphs (OnnxSources), with the case's recorded noise."""
    from PIL import Image

    from .golden import prior_pipeline

    src = OnnxSources(bundle)
    pipe = prior_pipeline(src, "kandinsky-2.1")
    with torch.no_grad(), replayed(case["noise"]) as left:
        if case["kind"] == "prior":
            out = pipe(case["prompt"], negative_prompt=case["negative_prompt"], guidance_scale=case["guidance_scale"],
                       num_inference_steps=case["num_inference_steps"], output_type="pt")
        else:
            conds = [c["prompt"] if "prompt" in c else
                     Image.fromarray(np.asarray(c["image_rgb"]["data"], np.uint8).reshape(c["image_rgb"]["shape"]))
                     for c in case["conditions"]]
            out = pipe.interpolate(conds, case["weights"], num_inference_steps=case["num_inference_steps"],
                                   guidance_scale=case["guidance_scale"], negative_prompt=case["negative_prompt"],
                                   negative_prior_prompt=case["negative_prior_prompt"])
        if left:
            raise AssertionError(f"{len(left)} recorded noise draws were not used")
    return {k: float(np.abs(getattr(out, k).numpy() - _tensor(case[k])).max()) for k in ("image_embeds", "negative_image_embeds")}


def replay_case(src: OnnxSources21, case: dict) -> dict[str, float]:
    """Runs a 2.1 text2img / img2img / inpaint golden case through diffusers over the bundle's graphs with the
    case's recorded noise; returns max |ours - reference| per quantity (text conditioning, each step, image)."""
    from PIL import Image

    kind = case["kind"]
    pipe = src.decoder_pipe(kind, case["scheduler"])
    steps: list[torch.Tensor] = []
    kw = dict(image_embeds=torch.from_numpy(_tensor(case["image_embeds"]).copy()),
              negative_image_embeds=torch.from_numpy(_tensor(case["negative_image_embeds"]).copy()),
              negative_prompt=case["negative_prompt"], height=case["height"], width=case["width"],
              num_inference_steps=case["num_inference_steps"], guidance_scale=case["guidance_scale"], output_type="np",
              callback=lambda i, t, latents: steps.append(latents.clone()))
    if kind in ("img2img", "inpaint"):
        rgb = np.asarray(case["init_image_rgb"]["data"], np.uint8).reshape(case["init_image_rgb"]["shape"])
        kw["image"] = Image.fromarray(rgb)
    if kind == "img2img":
        kw["strength"] = case["strength"]
    if kind == "inpaint":
        kw["mask_image"] = _tensor(case["mask"]).copy()
    with torch.no_grad(), replayed(case["noise"]) as left:
        prompt_embeds, hidden, _ = pipe._encode_prompt(case["prompt"], torch.device("cpu"), 1, case["guidance_scale"] > 1.0,
                                                       case["negative_prompt"])
        out = pipe(case["prompt"], **kw)
        if left:
            raise AssertionError(f"{len(left)} recorded noise draws were not used")
    errors = {"prompt_embeds": float(np.abs(prompt_embeds.numpy() - _tensor(case["prompt_embeds"])).max()),
              "text_encoder_hidden_states": float(np.abs(hidden.numpy() - _tensor(case["text_encoder_hidden_states"])).max())}
    if len(steps) != len(case["steps"]):
        raise AssertionError(f"{len(steps)} steps, the case has {len(case['steps'])}")
    errors["latents"] = max(float(np.abs(s.numpy() - _tensor(r["latents"])).max()) for s, r in zip(steps, case["steps"]))
    errors["image"] = float(np.abs(out.images - _tensor(case["image"])).max())
    return errors
