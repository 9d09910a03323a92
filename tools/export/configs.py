"""Architectures of Kandinsky 2.2 (full size and toy width) and tiny random checkpoints.

The full-size configs are those of the public diffusers checkpoints
`kandinsky-community/kandinsky-2-2-prior` and `-2-2-decoder` (parameter counts checked
against SPEC §6: UNet 1253M, prior 1026M, MoVQ 68M). The tiny ones keep every
architectural switch (SimpleCrossAttn blocks, image_proj conditioning, 8 output channels,
spatially modulated MoVQ norm, real CLIP vocabulary) at toy width, like the shared fixture.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKENIZER_JSON = REPO_ROOT / "public/models/tiny-kandinsky-2-2/tokenizer/tokenizer.json"

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

FULL = {
    "prior": dict(
        num_attention_heads=32, attention_head_dim=64, num_layers=20, embedding_dim=1280,
        num_embeddings=77, additional_embeddings=4, dropout=0.0, time_embed_act_fn="silu",
        norm_in_type=None, embedding_proj_norm_type=None, encoder_hid_proj_type="linear",
        added_emb_type="prd", time_embed_dim=None, embedding_proj_dim=None, clip_embed_dim=None,
    ),
    "text_encoder": dict(
        vocab_size=49408, hidden_size=1280, intermediate_size=5120, num_hidden_layers=32,
        num_attention_heads=20, max_position_embeddings=77, hidden_act="gelu", projection_dim=1280,
        layer_norm_eps=1e-5, bos_token_id=49406, eos_token_id=49407, pad_token_id=1,
    ),
    "image_encoder": dict(
        hidden_size=1664, intermediate_size=8192, num_hidden_layers=48, num_attention_heads=16,
        image_size=224, patch_size=14, projection_dim=1280, hidden_act="gelu", layer_norm_eps=1e-5,
    ),
    "unet": dict(
        act_fn="silu", addition_embed_type="image", addition_embed_type_num_heads=64,
        attention_head_dim=64, block_out_channels=[384, 768, 1152, 1536], center_input_sample=False,
        class_embed_type=None, conv_in_kernel=3, conv_out_kernel=3, cross_attention_dim=768,
        down_block_types=["ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D",
                          "SimpleCrossAttnDownBlock2D", "SimpleCrossAttnDownBlock2D"],
        downsample_padding=1, encoder_hid_dim=1280, encoder_hid_dim_type="image_proj",
        flip_sin_to_cos=True, freq_shift=0, in_channels=4, layers_per_block=3,
        mid_block_scale_factor=1, mid_block_type="UNetMidBlock2DSimpleCrossAttn", norm_eps=1e-5,
        norm_num_groups=32, out_channels=8, resnet_time_scale_shift="scale_shift", sample_size=64,
        time_embedding_type="positional",
        up_block_types=["SimpleCrossAttnUpBlock2D", "SimpleCrossAttnUpBlock2D",
                        "SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"],
    ),
    "movq": dict(
        act_fn="silu", block_out_channels=[128, 256, 256, 512],
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D",
                          "AttnDownEncoderBlock2D"],
        in_channels=3, latent_channels=4, layers_per_block=2, norm_num_groups=32, norm_type="spatial",
        num_vq_embeddings=16384, out_channels=3, sample_size=32,
        up_block_types=["AttnUpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D",
                        "UpDecoderBlock2D"],
        vq_embed_dim=4,
    ),
}

TINY_D = 32
TINY = {
    "prior": dict(
        num_attention_heads=2, attention_head_dim=16, num_layers=2, embedding_dim=TINY_D,
        num_embeddings=77, additional_embeddings=4,
    ),
    "text_encoder": dict(
        vocab_size=49408, hidden_size=TINY_D, intermediate_size=37, num_hidden_layers=2,
        num_attention_heads=4, max_position_embeddings=77, hidden_act="gelu", projection_dim=TINY_D,
        layer_norm_eps=1e-5, bos_token_id=49406, eos_token_id=49407, pad_token_id=1,
    ),
    "image_encoder": dict(
        hidden_size=TINY_D, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
        image_size=224, patch_size=14, projection_dim=TINY_D, hidden_act="gelu", layer_norm_eps=1e-5,
    ),
    "unet": dict(
        in_channels=4, out_channels=8, block_out_channels=[32, 64], layers_per_block=1,
        down_block_types=["ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D"],
        up_block_types=["SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"],
        mid_block_type="UNetMidBlock2DSimpleCrossAttn", addition_embed_type="image",
        encoder_hid_dim=TINY_D, encoder_hid_dim_type="image_proj", cross_attention_dim=TINY_D,
        attention_head_dim=4, resnet_time_scale_shift="scale_shift", class_embed_type=None,
        norm_num_groups=8, sample_size=8,
    ),
    "movq": dict(
        block_out_channels=[32, 32, 64, 64],
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D",
                          "AttnDownEncoderBlock2D"],
        up_block_types=["AttnUpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D",
                        "UpDecoderBlock2D"],
        in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1, norm_num_groups=8,
        norm_type="spatial", num_vq_embeddings=12, vq_embed_dim=4,
    ),
}

# Scheduler configs as the public checkpoints store them (scheduler/scheduler_config.json).
PRIOR_SCHEDULER = {
    "_class_name": "UnCLIPScheduler", "variance_type": "fixed_small_log", "prediction_type": "sample",
    "num_train_timesteps": 1000, "clip_sample": True, "clip_sample_range": 10.0,
}
DECODER_SCHEDULER = {
    "_class_name": "DDPMScheduler", "num_train_timesteps": 1000, "beta_schedule": "linear",
    "beta_start": 0.00085, "beta_end": 0.012, "clip_sample": False, "steps_offset": 1,
    "prediction_type": "epsilon", "thresholding": False, "variance_type": "fixed_small",
    "timestep_spacing": "leading",
}

PRIOR_COMPONENTS = ("prior", "text_encoder", "tokenizer", "image_encoder", "image_processor", "scheduler")
DECODER_COMPONENTS = ("unet", "movq", "scheduler")


def _seeded(seed: int):
    import torch

    torch.manual_seed(seed)


def _randomise(model, seed: int, std: float | None) -> None:
    """Re-draw every parameter: diffusers zero-initialises some output layers, and a zero
    layer would hide export mistakes downstream of it."""
    import torch

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1 and ("norm" in name or name.endswith("ln.weight")):
                continue  # keep norm affine parameters at their init (1 / 0)
            fan_in = p[0].numel() if p.ndim > 1 else p.numel()
            s = std if std is not None else 1.0 / max(1.0, fan_in) ** 0.5
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float32).to(p.dtype) * s)


def build_prior_checkpoint(out: Path, size: str = "tiny", seed: int = 0, randomise: bool = True) -> Path:
    """A `KandinskyV22PriorPipeline.save_pretrained`-style folder with random weights."""
    import torch
    from diffusers import PriorTransformer, UnCLIPScheduler
    from transformers import (
        CLIPImageProcessor, CLIPTextConfig, CLIPTextModelWithProjection, CLIPTokenizerFast,
        CLIPVisionConfig, CLIPVisionModelWithProjection,
    )

    cfg = FULL if size == "full" else TINY
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _seeded(seed)
    prior = PriorTransformer(**cfg["prior"])
    if randomise:
        _randomise(prior, seed + 1, None)
    d = prior.config.embedding_dim
    # The prior works in normalised CLIP space; random stats exercise the de-normalisation.
    g = torch.Generator().manual_seed(seed + 2)
    with torch.no_grad():
        prior.clip_mean.copy_(torch.randn(1, d, generator=g) * 0.1)
        prior.clip_std.copy_(torch.rand(1, d, generator=g) * 0.5 + 0.75)
    prior.save_pretrained(out / "prior")
    del prior

    text = CLIPTextModelWithProjection(CLIPTextConfig(**cfg["text_encoder"]))
    if randomise:
        _randomise(text, seed + 3, None)
    text.save_pretrained(out / "text_encoder")
    del text

    vision = CLIPVisionModelWithProjection(CLIPVisionConfig(**cfg["image_encoder"]))
    if randomise:
        _randomise(vision, seed + 4, None)
    vision.save_pretrained(out / "image_encoder")
    del vision

    tok = CLIPTokenizerFast(
        tokenizer_file=str(TOKENIZER_JSON), bos_token="<|startoftext|>", eos_token="<|endoftext|>",
        unk_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=77,
    )
    tok.save_pretrained(out / "tokenizer")
    CLIPImageProcessor(
        crop_size={"height": 224, "width": 224}, size={"shortest_edge": 224}, do_center_crop=True,
        do_normalize=True, do_resize=True, image_mean=CLIP_MEAN, image_std=CLIP_STD, resample=3,
    ).save_pretrained(out / "image_processor")
    _write_scheduler(out / "scheduler", PRIOR_SCHEDULER)
    _write_model_index(out, "KandinskyV22PriorPipeline", {
        "prior": ["diffusers", "PriorTransformer"],
        "text_encoder": ["transformers", "CLIPTextModelWithProjection"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "image_encoder": ["transformers", "CLIPVisionModelWithProjection"],
        "image_processor": ["transformers", "CLIPImageProcessor"],
        "scheduler": ["diffusers", "UnCLIPScheduler"],
    })
    assert UnCLIPScheduler.from_pretrained(out / "scheduler") is not None
    return out


def build_decoder_checkpoint(out: Path, size: str = "tiny", seed: int = 10, inpaint: bool = False,
                             randomise: bool = True, movq_from: Path | None = None) -> Path:
    """A `KandinskyV22Pipeline` (or inpaint: 9 input channels) folder with random weights."""
    from diffusers import UNet2DConditionModel, VQModel

    cfg = FULL if size == "full" else TINY
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _seeded(seed)
    unet_cfg = dict(cfg["unet"])
    if inpaint:
        unet_cfg["in_channels"] = 9
    unet = UNet2DConditionModel(**unet_cfg)
    if randomise:
        _randomise(unet, seed + 1, None)
    unet.save_pretrained(out / "unet")
    del unet
    if movq_from is not None:
        movq = VQModel.from_pretrained(Path(movq_from) / "movq")
    else:
        # diffusers' default init: no zero layers here, and re-drawn weights give the decoder
        # a gain (output |x| ~ 10) that no trained MoVQ has.
        movq = VQModel(**cfg["movq"])
    movq.save_pretrained(out / "movq")
    del movq
    _write_scheduler(out / "scheduler", DECODER_SCHEDULER)
    _write_model_index(out, "KandinskyV22InpaintPipeline" if inpaint else "KandinskyV22Pipeline", {
        "unet": ["diffusers", "UNet2DConditionModel"],
        "movq": ["diffusers", "VQModel"],
        "scheduler": ["diffusers", "DDPMScheduler"],
    })
    return out


def _write_scheduler(folder: Path, config: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scheduler_config.json").write_text(json.dumps(config, indent=2) + "\n")


def _write_model_index(out: Path, cls: str, components: dict) -> None:
    (out / "model_index.json").write_text(json.dumps({"_class_name": cls, **components}, indent=2) + "\n")


def cpu_threads() -> int:
    """Torch/ORT threads to use: the machine's cores (CI has 2)."""
    return max(1, os.cpu_count() or 1)


# ---------------------------------------------------------------------------- Kandinsky 2.1
#
# Full size: the configs of kandinsky-community/kandinsky-2-1-prior (PriorTransformer at D = 768, CLIP
# ViT-L/14 text and vision towers) and kandinsky-community/kandinsky-2-1 (M-CLIP = XLM-RoBERTa-Large +
# Linear 1024 -> 768; the UNet of 2.2 with text_image conditioning, cross_attention_dim 768,
# encoder_hid_dim 1024; the same MoVQ). Used for the size table only (meta device, no weights).
# Tiny: the switches of diffusers' own dummy components (tests/pipelines/kandinsky/test_kandinsky.py:
# addition_embed_type "text_image", encoder_hid_dim_type "text_image_proj", SimpleCrossAttn blocks,
# scale_shift) at toy width. The tiny XLM-R is 48 wide, not D = 32, so that a bundle or an engine that
# mixes up the XLM-R width Hm and D fails loudly.

XLMR_TOKENIZER_JSON = Path(__file__).resolve().parent / "data" / "xlmr_tokenizer.json"

FULL_21 = {
    "prior": {**FULL["prior"], "num_attention_heads": 32, "attention_head_dim": 64, "num_layers": 20,
              "embedding_dim": 768},
    "text_encoder": dict(
        vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
        max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768, layer_norm_eps=1e-5,
        bos_token_id=49406, eos_token_id=49407, pad_token_id=1,
    ),
    "image_encoder": dict(
        hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16, image_size=224,
        patch_size=14, projection_dim=768, hidden_act="quick_gelu", layer_norm_eps=1e-5,
    ),
    # xlm-roberta-large, with M-CLIP's two extra fields (MCLIPConfig: transformerDimSize, imageDimSize).
    "text_encoder_multilingual": dict(
        vocab_size=250002, hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16,
        max_position_embeddings=514, type_vocab_size=1, layer_norm_eps=1e-5, hidden_act="gelu",
        pad_token_id=1, bos_token_id=0, eos_token_id=2, transformerDimSize=1024, imageDimSize=768,
    ),
    "unet": {**FULL["unet"], "addition_embed_type": "text_image", "encoder_hid_dim_type": "text_image_proj",
             "encoder_hid_dim": 1024, "cross_attention_dim": 768},
    "movq": FULL["movq"],
}

TINY_HM = 48
TINY_21 = {
    "prior": TINY["prior"],
    "text_encoder": TINY["text_encoder"],
    "image_encoder": TINY["image_encoder"],
    "text_encoder_multilingual": dict(
        vocab_size=None,  # the tokenizer's (data/xlmr_tokenizer.json)
        hidden_size=TINY_HM, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
        max_position_embeddings=514, type_vocab_size=1, layer_norm_eps=1e-5, hidden_act="gelu",
        pad_token_id=1, bos_token_id=0, eos_token_id=2, transformerDimSize=TINY_HM, imageDimSize=TINY_D,
    ),
    "unet": {**TINY["unet"], "addition_embed_type": "text_image", "encoder_hid_dim_type": "text_image_proj",
             "encoder_hid_dim": TINY_HM, "cross_attention_dim": TINY_D},
    "movq": TINY["movq"],
}

# kandinsky-community/kandinsky-2-1 scheduler/scheduler_config.json (DDIM, eta 0).
DECODER_SCHEDULER_21 = {
    "_class_name": "DDIMScheduler", "num_train_timesteps": 1000, "beta_schedule": "linear",
    "beta_start": 0.00085, "beta_end": 0.012, "clip_sample": False, "set_alpha_to_one": False, "steps_offset": 1,
    "prediction_type": "epsilon", "thresholding": False, "timestep_spacing": "leading",
}

PRIOR_PIPELINE_21 = "KandinskyPriorPipeline"
DECODER_PIPELINE_21 = "KandinskyPipeline"
INPAINT_PIPELINE_21 = "KandinskyInpaintPipeline"


def build_prior_checkpoint_21(out: Path, seed: int = 100) -> Path:
    """A `KandinskyPriorPipeline.save_pretrained`-style folder: the 2.2 prior folder's layout and classes
    (same PriorTransformer, CLIP text and vision towers) at D = 32, under 2.1's pipeline class."""
    out = build_prior_checkpoint(out, size="tiny", seed=seed)
    index = json.loads((out / "model_index.json").read_text())
    _write_model_index(out, PRIOR_PIPELINE_21, {k: v for k, v in index.items() if k != "_class_name"})
    return out


def build_multilingual_text_encoder(cfg: dict, seed: int, randomise: bool = True):
    """diffusers' MultilingualCLIP (XLM-RoBERTa + Linear) from a config of FULL_21/TINY_21 form."""
    from diffusers.pipelines.kandinsky.text_encoder import MCLIPConfig, MultilingualCLIP

    cfg = dict(cfg)
    if cfg.get("vocab_size") is None:
        cfg["vocab_size"] = len(json.loads(XLMR_TOKENIZER_JSON.read_text())["model"]["vocab"]) + 1  # + <mask>
    _seeded(seed)
    model = MultilingualCLIP(MCLIPConfig(**cfg))
    if randomise:
        _randomise(model, seed + 1, None)
    return model.eval()


def build_decoder_checkpoint_21(out: Path, seed: int = 110, inpaint: bool = False,
                                movq_from: Path | None = None, text_from: Path | None = None) -> Path:
    """A `KandinskyPipeline` (or `KandinskyInpaintPipeline`: 9 input channels) folder with random weights:
    text_encoder (MultilingualCLIP), tokenizer (XLMRobertaTokenizerFast), unet, scheduler (DDIM), movq."""
    from diffusers import UNet2DConditionModel, VQModel
    from diffusers.pipelines.kandinsky.text_encoder import MultilingualCLIP

    from .xlmr_tokenizer import fast_tokenizer

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _seeded(seed)
    unet_cfg = dict(TINY_21["unet"])
    if inpaint:
        unet_cfg["in_channels"] = 9
    unet = UNet2DConditionModel(**unet_cfg)
    _randomise(unet, seed + 1, None)
    unet.save_pretrained(out / "unet")
    del unet
    if text_from is not None:
        text = MultilingualCLIP.from_pretrained(Path(text_from) / "text_encoder")
    else:
        text = build_multilingual_text_encoder(TINY_21["text_encoder_multilingual"], seed + 2)
    text.save_pretrained(out / "text_encoder")
    del text
    fast_tokenizer(XLMR_TOKENIZER_JSON).save_pretrained(out / "tokenizer")
    if movq_from is not None:
        movq = VQModel.from_pretrained(Path(movq_from) / "movq")
    else:
        _seeded(seed + 3)
        movq = VQModel(**TINY_21["movq"])  # diffusers' default init, as the 2.2 tiny MoVQ
    movq.save_pretrained(out / "movq")
    del movq
    _write_scheduler(out / "scheduler", DECODER_SCHEDULER_21)
    _write_model_index(out, INPAINT_PIPELINE_21 if inpaint else DECODER_PIPELINE_21, {
        "text_encoder": ["kandinsky", "MultilingualCLIP"],
        "tokenizer": ["transformers", "XLMRobertaTokenizerFast"],
        "unet": ["diffusers", "UNet2DConditionModel"],
        "scheduler": ["diffusers", "DDIMScheduler"],
        "movq": ["diffusers", "VQModel"],
    })
    return out


def build_checkpoints_21(root: Path) -> dict[str, Path]:
    """The three tiny 2.1 folders (prior, decoder, inpaint sharing the decoder's MoVQ and text encoder)."""
    root = Path(root)
    prior = build_prior_checkpoint_21(root / "prior")
    decoder = build_decoder_checkpoint_21(root / "decoder")
    inpaint = build_decoder_checkpoint_21(root / "inpaint", seed=120, inpaint=True, movq_from=decoder, text_from=decoder)
    return {"prior": prior, "decoder": decoder, "inpaint": inpaint}
