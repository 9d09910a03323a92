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
    # (start, end, pad, vocabulary size) of the token ids sample_inputs draws for `input_ids`.
    tokens: tuple = (49406, 49407, 49407, 49406)


_D, _HID, _HM, _CROP = "<embedding_dim>", "<text_hidden>", "<multilingual_hidden>", "<crop_size>"
FAMILIES = ("kandinsky-2.2", "kandinsky-2.1")


def _stages(d: str = _D, h: str = _HID) -> dict[str, Stage]:
    # d and h are placeholders replaced by the real embedding / hidden sizes.
    return {
        "text_encoder": Stage("text_encoder", "prior", {"input_ids": ["batch", MAX_LENGTH]},
                              {"text_embeds": ["batch", d], "last_hidden_state": ["batch", MAX_LENGTH, h]},
                              ("input_ids",)),
        "image_encoder": Stage("image_encoder", "prior", {"pixel_values": ["batch", 3, _CROP, _CROP]},
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


def _stages_21(d: str = _D, hm: str = _HM) -> dict[str, Stage]:
    """Kandinsky 2.1 (docs/kandinsky-2-1.md): the 2.2 stages, the multilingual text encoder, and UNets that
    also take the XLM-R states and the M-CLIP text embedding."""
    base = _stages()

    def unet(name, source, channels):
        return Stage(name, source, {
            "sample": ["batch", channels, "height", "width"], "timestep": ["batch"],
            "encoder_hidden_states": ["batch", MAX_LENGTH, hm], "text_embeds": ["batch", d], "image_embeds": ["batch", d],
        }, {"out_sample": ["batch", 8, "height", "width"]})

    return {
        "text_encoder": base["text_encoder"], "image_encoder": base["image_encoder"], "prior": base["prior"],
        "text_encoder_multilingual": Stage(
            "text_encoder_multilingual", "decoder",
            {"input_ids": ["batch", MAX_LENGTH], "attention_mask": ["batch", MAX_LENGTH]},
            {"text_embeds": ["batch", d], "last_hidden_state": ["batch", MAX_LENGTH, hm]},
            ("input_ids", "attention_mask"), (0, 2, 1, None)),
        "unet": unet("unet", "decoder", 4), "unet_inpaint": unet("unet_inpaint", "inpaint", 9),
        "movq_encoder": base["movq_encoder"], "movq_decoder": base["movq_decoder"],
    }


STAGE_NAMES = tuple(_stages())  # Kandinsky 2.2, in manifest order
STAGE_NAMES_21 = tuple(_stages_21())  # Kandinsky 2.1, in manifest order
ALL_STAGE_NAMES = tuple(dict.fromkeys(STAGE_NAMES_21 + STAGE_NAMES))


def stage_names(family: str = "kandinsky-2.2") -> tuple[str, ...]:
    return STAGE_NAMES_21 if family == "kandinsky-2.1" else STAGE_NAMES


def stage_contract(name: str, embedding_dim: int, text_hidden: int, family: str = "kandinsky-2.2",
                   multilingual_hidden: int | None = None, vocab_size: int | None = None, crop_size: int = 224) -> Stage:
    """The stage's contract with D, H, the image processor's crop size (and for 2.1 Hm, the XLM-R
    width) filled in."""
    table = _stages_21() if family == "kandinsky-2.1" else _stages()
    if name not in table:
        raise ValueError(f"{family} has no stage {name!r}; its stages: {', '.join(table)}")
    s = table[name]
    sizes = {_D: embedding_dim, _HID: text_hidden, _HM: multilingual_hidden, _CROP: crop_size}

    def fill(io: dict) -> dict:
        return {k: [sizes.get(x, x) if isinstance(x, str) else x for x in v] for k, v in io.items()}

    tokens = s.tokens if s.tokens[3] is not None else (*s.tokens[:3], vocab_size or 100)
    return Stage(s.name, s.source, fill(s.inputs), fill(s.outputs), s.int64_inputs, tokens)


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


class UNetTextImage(torch.nn.Module):
    """Kandinsky 2.1's UNet (addition_embed_type "text_image", encoder_hid_dim_type "text_image_proj"), called as
    diffusers' KandinskyPipeline calls it (pipeline_kandinsky.py: encoder_hidden_states = XLM-R states,
    added_cond_kwargs text_embeds = M-CLIP prompt_embeds, image_embeds)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, sample, timestep, encoder_hidden_states, text_embeds, image_embeds):
        return self.model(sample, timestep, encoder_hidden_states=encoder_hidden_states,
                          added_cond_kwargs={"text_embeds": text_embeds, "image_embeds": image_embeds}).sample


class MultilingualTextEncoder(torch.nn.Module):
    """diffusers' MultilingualCLIP (pipelines/kandinsky/text_encoder.py): XLM-R states and the linear projection of
    their mean over the masked tokens."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        text_embeds, last_hidden_state = self.model(input_ids=input_ids, attention_mask=attention_mask)
        return text_embeds, last_hidden_state


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

        unet = UNet2DConditionModel.from_pretrained(folder / "unet", **kw)
        m = UNetTextImage(unet) if unet.config.encoder_hid_dim_type == "text_image_proj" else UNet(unet)
    elif name == "text_encoder_multilingual":
        from diffusers.pipelines.kandinsky.text_encoder import MultilingualCLIP

        m = MultilingualTextEncoder(MultilingualCLIP.from_pretrained(folder / "text_encoder", dtype=dtype,
                                                                     attn_implementation="eager"))
    elif name in ("movq_encoder", "movq_decoder"):
        from diffusers import VQModel

        movq = VQModel.from_pretrained(folder / "movq", **kw)
        m = MovqEncoder(movq) if name == "movq_encoder" else MovqDecoder(movq)
    else:
        raise ValueError(f"unknown stage {name!r}; expected one of {', '.join(ALL_STAGE_NAMES)}")
    return m.eval()


def sample_inputs(stage: Stage, batch: int = 2, side: int = 64, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random inputs in the ranges the pipelines feed (pixel side `side`, latent side side/8)."""
    g = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    lat = side // 8
    for k, shape in stage.inputs.items():
        dims = [batch if x == "batch" else lat if x in ("height", "width") else side if x in ("H", "W") else x for x in shape]
        if k == "input_ids":
            start, end, pad, vocab = stage.tokens
            ids = torch.randint(0, vocab, dims, generator=g)
            if stage.tokens != Stage.tokens:  # a vocabulary with specials at the front (XLM-R: 0-3)
                ids = torch.randint(4, vocab - 1, dims, generator=g)
            n = 7  # start, 5 tokens, end, then padding (CLIP pads with its end token)
            ids[:, 0] = start
            ids[:, n - 1] = end
            ids[:, n:] = pad
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

