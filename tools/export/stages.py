"""The ONNX stages of a bundle (SPEC §2): names, I/O contract, PyTorch wrappers, sample inputs.

Each wrapper takes exactly the stage's inputs, in contract order, and returns its outputs in
contract order, so `torch.onnx.export` names them from STAGES and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import torch

MAX_LENGTH = 77


@dataclass(frozen=True)
class Stage:
    """Contract of one stage: I/O names and symbolic shapes (manifest form)."""

    name: str
    source: str  # "prior" | "decoder" | "inpaint": which checkpoint folder it comes from
    inputs: dict  # name -> shape list (ints or axis names), manifest form
    outputs: dict
    int64_inputs: tuple = ()


_D, _HID = "<embedding_dim>", "<text_hidden>"


def _stages(d: str = _D, h: str = _HID) -> dict[str, Stage]:
    # d and h are placeholders replaced by the real embedding / hidden sizes.
    return {
        "text_encoder": Stage("text_encoder", "prior", {"input_ids": ["batch", MAX_LENGTH]},
                              {"text_embeds": ["batch", d], "last_hidden_state": ["batch", MAX_LENGTH, h]},
                              ("input_ids",)),
        "image_encoder": Stage("image_encoder", "prior", {"pixel_values": ["batch", 3, 224, 224]},
                               {"image_embeds": ["batch", d]}),
        "prior": Stage("prior", "prior", {
            "hidden_states": ["batch", d], "timestep": ["batch"], "proj_embedding": ["batch", d],
            "encoder_hidden_states": ["batch", MAX_LENGTH, h], "attention_mask": ["batch", MAX_LENGTH],
        }, {"predicted_image_embedding": ["batch", d]}, ("attention_mask",)),
        "unet": Stage("unet", "decoder", {
            "sample": ["batch", 4, "height", "width"], "timestep": ["batch"], "image_embeds": ["batch", d],
        }, {"out_sample": ["batch", 8, "height", "width"]}),
        "unet_inpaint": Stage("unet_inpaint", "inpaint", {
            "sample": ["batch", 9, "height", "width"], "timestep": ["batch"], "image_embeds": ["batch", d],
        }, {"out_sample": ["batch", 8, "height", "width"]}),
        "movq_encoder": Stage("movq_encoder", "decoder", {"image": ["batch", 3, "H", "W"]},
                              {"latents": ["batch", 4, "height", "width"]}),
        "movq_decoder": Stage("movq_decoder", "decoder", {"latents": ["batch", 4, "height", "width"]},
                              {"image": ["batch", 3, "H", "W"]}),
    }


STAGE_NAMES = tuple(_stages())


def stage_contract(name: str, embedding_dim: int, text_hidden: int) -> Stage:
    """The stage's contract with D and H filled in."""
    s = _stages()[name]

    def fill(io: dict) -> dict:
        return {k: [embedding_dim if x == _D else text_hidden if x == _HID else x for x in v] for k, v in io.items()}

    return Stage(s.name, s.source, fill(s.inputs), fill(s.outputs), s.int64_inputs)


def dynamic_axes(stage: Stage) -> dict:
    """torch.onnx dynamic_axes from the symbolic dims of the contract."""
    axes = {}
    for io in (stage.inputs, stage.outputs):
        for k, shape in io.items():
            named = {i: x for i, x in enumerate(shape) if isinstance(x, str)}
            if named:
                axes[k] = named
    return axes


# ---------------------------------------------------------------- wrappers


class TextEncoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        out = self.model(input_ids=input_ids)
        return out.text_embeds, out.last_hidden_state


class ImageEncoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixel_values):
        return self.model(pixel_values=pixel_values).image_embeds


class Prior(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, hidden_states, timestep, proj_embedding, encoder_hidden_states, attention_mask):
        # diffusers' prior pipeline hands the text mask over as bool.
        return self.model(hidden_states, timestep=timestep, proj_embedding=proj_embedding,
                          encoder_hidden_states=encoder_hidden_states,
                          attention_mask=attention_mask.bool()).predicted_image_embedding


class UNet(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, sample, timestep, image_embeds):
        return self.model(sample, timestep, encoder_hidden_states=None,
                          added_cond_kwargs={"image_embeds": image_embeds}).sample


class MovqEncoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, image):
        return self.model.encode(image).latents


class MovqDecoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, latents):
        # What KandinskyV22Pipeline does: decode without snapping to the codebook.
        return self.model.decode(latents, force_not_quantize=True).sample


def load_module(name: str, folder: Path, dtype=torch.float32) -> torch.nn.Module:
    """Load the PyTorch model behind a stage from a diffusers checkpoint folder (no network)."""
    folder = Path(folder)
    kw = dict(torch_dtype=dtype, local_files_only=True)
    if name == "text_encoder":
        from transformers import CLIPTextModelWithProjection

        m = TextEncoder(CLIPTextModelWithProjection.from_pretrained(folder / "text_encoder", dtype=dtype, attn_implementation="eager"))
    elif name == "image_encoder":
        from transformers import CLIPVisionModelWithProjection

        m = ImageEncoder(CLIPVisionModelWithProjection.from_pretrained(folder / "image_encoder", dtype=dtype, attn_implementation="eager"))
    elif name == "prior":
        from diffusers import PriorTransformer

        m = Prior(PriorTransformer.from_pretrained(folder / "prior", **kw))
    elif name in ("unet", "unet_inpaint"):
        from diffusers import UNet2DConditionModel

        m = UNet(UNet2DConditionModel.from_pretrained(folder / "unet", **kw))
    elif name in ("movq_encoder", "movq_decoder"):
        from diffusers import VQModel

        movq = VQModel.from_pretrained(folder / "movq", **kw)
        m = MovqEncoder(movq) if name == "movq_encoder" else MovqDecoder(movq)
    else:
        raise ValueError(f"unknown stage {name!r}; expected one of {', '.join(STAGE_NAMES)}")
    return m.eval()


def sample_inputs(stage: Stage, batch: int = 2, side: int = 64, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random inputs in the ranges the pipelines feed (pixel side `side`, latent side side/8)."""
    g = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    lat = side // 8
    for k, shape in stage.inputs.items():
        dims = [batch if x == "batch" else lat if x in ("height", "width") else side if x in ("H", "W") else x for x in shape]
        if k == "input_ids":
            ids = torch.randint(0, 49406, dims, generator=g)
            n = 7  # start, 5 tokens, end, then padding with the end token
            ids[:, 0] = 49406
            ids[:, n - 1:] = 49407
            out[k] = ids
        elif k == "attention_mask":
            m = torch.zeros(dims, dtype=torch.int64)
            m[:, :7] = 1
            out[k] = m
        elif k == "timestep":
            out[k] = torch.tensor([999.0, 1.0, 500.0, 250.0][:batch] + [42.0] * max(0, batch - 4))
        elif k == "image":
            out[k] = torch.rand(dims, generator=g) * 2 - 1
        else:
            out[k] = torch.randn(dims, generator=g)
    return out

