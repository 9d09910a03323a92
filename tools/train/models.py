"""The micro Kandinsky 2.2: the reference pipelines' classes at small width, and their checkpoint layout.

Same classes and switches as tools/export/configs.py's TINY (SimpleCrossAttn UNet with image_proj
conditioning and 8 output channels, spatially modulated MoVQ, real CLIP vocabulary), at widths chosen
so the fp32 bundle stays under 40 MB and a 64x64 generation (8x8 latents) takes about a second on wasm.
"""
from __future__ import annotations

import json
from pathlib import Path

from tools.export.configs import CLIP_MEAN, CLIP_STD, DECODER_SCHEDULER, PRIOR_SCHEDULER, TOKENIZER_JSON

NATIVE_SIZE = 64  # pixels; latents are NATIVE_SIZE / 8
CLIP_SIZE = 96  # pixels the CLIP image tower sees (image_processor size and crop_size)
D = 64  # CLIP embedding = text hidden size = prior width (PriorTransformer ties them)

MICRO = {
    "prior": dict(
        num_attention_heads=2, attention_head_dim=32, num_layers=4, embedding_dim=D,
        num_embeddings=77, additional_embeddings=4, dropout=0.0,
    ),
    "text_encoder": dict(
        vocab_size=49408, hidden_size=D, intermediate_size=4 * D, num_hidden_layers=3,
        num_attention_heads=4, max_position_embeddings=77, hidden_act="gelu", projection_dim=D,
        layer_norm_eps=1e-5, bos_token_id=49406, eos_token_id=49407, pad_token_id=1,
    ),
    "image_encoder": dict(
        hidden_size=D, intermediate_size=4 * D, num_hidden_layers=3, num_attention_heads=4,
        # 96 px in 16 px patches: each cell of the scenes' 3x3 grid is exactly 2x2 patches, so the
        # tower learns where things are in a few hundred steps (224 px in 32 px patches took
        # thousands, and the contrastive run never learned it: tools/train/README.md).
        image_size=CLIP_SIZE, patch_size=16, projection_dim=D, hidden_act="gelu", layer_norm_eps=1e-5,
    ),
    "unet": dict(
        in_channels=4, out_channels=8, block_out_channels=[48, 96], layers_per_block=1,
        down_block_types=["ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D"],
        up_block_types=["SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"],
        mid_block_type="UNetMidBlock2DSimpleCrossAttn", addition_embed_type="image",
        encoder_hid_dim=D, encoder_hid_dim_type="image_proj", cross_attention_dim=D,
        attention_head_dim=24, resnet_time_scale_shift="scale_shift", class_embed_type=None,
        norm_num_groups=8, sample_size=NATIVE_SIZE // 8,
    ),
    "movq": dict(
        block_out_channels=[32, 32, 64, 64],  # SpatialNorm fixes 32 groups
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D",
                          "AttnDownEncoderBlock2D"],
        up_block_types=["AttnUpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D",
                        "UpDecoderBlock2D"],
        in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1, norm_num_groups=8,
        norm_type="spatial", num_vq_embeddings=16, vq_embed_dim=4, sample_size=NATIVE_SIZE,
    ),
}


def tokenizer():
    """The CLIP BPE tokenizer of the tiny bundle (real vocabulary), as the pipelines build it."""
    from transformers import CLIPTokenizerFast

    return CLIPTokenizerFast(
        tokenizer_file=str(TOKENIZER_JSON), bos_token="<|startoftext|>", eos_token="<|endoftext|>",
        unk_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=77,
    )


def build(cfg: dict = MICRO) -> dict:
    """Freshly initialised modules (diffusers / transformers defaults), seeded by the caller."""
    from diffusers import PriorTransformer, UNet2DConditionModel, VQModel
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection, CLIPVisionConfig, CLIPVisionModelWithProjection

    unet_inpaint_cfg = {**cfg["unet"], "in_channels": 9}
    return {
        "movq": VQModel(**cfg["movq"]),
        "text_encoder": CLIPTextModelWithProjection(CLIPTextConfig(**cfg["text_encoder"])),
        "image_encoder": CLIPVisionModelWithProjection(CLIPVisionConfig(**cfg["image_encoder"])),
        "prior": PriorTransformer(**cfg["prior"]),
        "unet": UNet2DConditionModel(**cfg["unet"]),
        "unet_inpaint": UNet2DConditionModel(**unet_inpaint_cfg),
    }


def _json(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2) + "\n")


def save_prior_folder(out: Path, text_encoder, image_encoder, prior) -> None:
    """A KandinskyV22PriorPipeline save_pretrained folder (what tools/export --prior reads)."""
    from transformers import CLIPImageProcessor

    text_encoder.save_pretrained(out / "text_encoder")
    image_encoder.save_pretrained(out / "image_encoder")
    prior.save_pretrained(out / "prior")
    tokenizer().save_pretrained(out / "tokenizer")
    CLIPImageProcessor(
        crop_size={"height": CLIP_SIZE, "width": CLIP_SIZE}, size={"shortest_edge": CLIP_SIZE}, do_center_crop=True,
        do_normalize=True, do_resize=True, image_mean=CLIP_MEAN, image_std=CLIP_STD, resample=3,
    ).save_pretrained(out / "image_processor")
    _json(out / "scheduler" / "scheduler_config.json", PRIOR_SCHEDULER)
    _json(out / "model_index.json", {
        "_class_name": "KandinskyV22PriorPipeline",
        "prior": ["diffusers", "PriorTransformer"],
        "text_encoder": ["transformers", "CLIPTextModelWithProjection"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "image_encoder": ["transformers", "CLIPVisionModelWithProjection"],
        "image_processor": ["transformers", "CLIPImageProcessor"],
        "scheduler": ["diffusers", "UnCLIPScheduler"],
    })


def save_decoder_folder(out: Path, unet, movq, inpaint: bool) -> None:
    """A KandinskyV22Pipeline (or Inpaint) save_pretrained folder (tools/export --decoder / --inpaint)."""
    unet.save_pretrained(out / "unet")
    movq.save_pretrained(out / "movq")
    _json(out / "scheduler" / "scheduler_config.json", DECODER_SCHEDULER)
    _json(out / "model_index.json", {
        "_class_name": "KandinskyV22InpaintPipeline" if inpaint else "KandinskyV22Pipeline",
        "unet": ["diffusers", "UNet2DConditionModel"],
        "movq": ["diffusers", "VQModel"],
        "scheduler": ["diffusers", "DDPMScheduler"],
    })
