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
