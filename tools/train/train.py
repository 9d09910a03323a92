"""`python -m tools.train`: train every stage of the micro Kandinsky 2.2 from the scene generator.

Order: MoVQ (reconstruction) -> CLIP text + vision (contrastive) -> prior (UnCLIP, sample
prediction, in CLIP-normalised space) -> UNet (epsilon + learned variance, DDPM) -> inpainting
UNet (9 channels, random masks, started from the UNet). Each stage writes its weights as soon as it
finishes, so an interrupted run keeps what it trained. Step counts are fixed by the preset, so the
same command and seed give the same weights on the same machine kind; a stage's deadline (seconds)
only guards the wall clock and is logged when it cuts a stage short (then the run is not reproducible).

Output (--out): `prior/`, `decoder/`, `inpaint/` in diffusers' save_pretrained layout (what
tools/export reads), `movq_only/` and `clip_only/` (stage outputs the later stages read), and
`curves.json` (loss per logged step, stage timings).
"""
from __future__ import annotations

import argparse
import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import data
from .models import CLIP_SIZE, MICRO, NATIVE_SIZE, build, save_decoder_folder, save_prior_folder, tokenizer

CLIP_MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
CLIP_STD = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)


@dataclass(frozen=True)
class Preset:
    """Steps, batch sizes and per-stage deadlines (s) of one run."""

    pool: int
    movq_steps: int
    movq_batch: int
    clip_steps: int
    clip_batch: int
    prior_steps: int
    prior_batch: int
    unet_steps: int
    unet_batch: int
    inpaint_steps: int
    inpaint_batch: int
    deadline_s: dict
    log_every: int = 25
    movq_decoder_steps: int = 0
    movq_decoder_batch: int = 4
    # Stop a stage after this many steps while its learning-rate schedule still spans the planned
    # steps: how a run cut by its deadline is repeated exactly.
    stop_at: dict = field(default_factory=dict)
    # A second round for each UNet from its saved weights, on a fresh cosine schedule, each able to
    # run beside the other (--stages unet_more --log FILE). The committed run has none (0 steps).
    unet_more_steps: int = 0
    inpaint_more_steps: int = 0
    # Weight of CLIP's auxiliary attribute loss on the image embedding (0: contrastive only).
    clip_aux: float = 1.0
    # Steps of the vision tower alone on the attribute loss before the contrastive steps (batch
    # clip_batch): the embedding learns where things are before colour alone can tell pairs apart.
    clip_warmup_steps: int = 0
    # Decay of the exponential moving average kept of the prior and UNet weights (0: none, save the
    # last weights). The saved weights are the average's, as in DDPM/improved DDPM training.
    ema: float = 0.999


PRESETS = {
    # a few steps per stage: the tests and the rehearsal of a run
    "tiny": Preset(pool=64, movq_steps=3, movq_batch=4, clip_steps=3, clip_batch=8, prior_steps=3, prior_batch=8,
                   unet_steps=3, unet_batch=8, inpaint_steps=3, inpaint_batch=8,
                   deadline_s={}, log_every=1, movq_decoder_steps=3, unet_more_steps=2, inpaint_more_steps=2, ema=0.9,
                   clip_warmup_steps=2),
    # The committed weights: this 2-core CPU machine, `--threads 2` (77 minutes for all stages). With
    # the 224 px CLIP tower and no vision warm-up the same steps gave a model that drew the asked
    # colour in a random cell; the warm-up and the 96 px tower (models.py) put position in the
    # embedding (tools/train/README.md).
    "cpu": Preset(pool=15000, movq_steps=1200, movq_batch=16, clip_steps=2000, clip_batch=128, prior_steps=2500,
                  prior_batch=128, unet_steps=8000, unet_batch=64, inpaint_steps=3000, inpaint_batch=64,
                  deadline_s={}, log_every=50, movq_decoder_steps=800, movq_decoder_batch=16, clip_warmup_steps=1500),
    # one GPU, a command of at most 7 minutes
    "gpu": Preset(pool=40000, movq_steps=6000, movq_batch=64, clip_steps=6000, clip_batch=512, prior_steps=8000,
                  prior_batch=512, unet_steps=20000, unet_batch=256, inpaint_steps=8000, inpaint_batch=256,
                  deadline_s={"movq": 70, "clip_warmup": 15, "clip": 50, "prior": 40, "unet": 120, "inpaint": 60,
                              "movq_decoder": 30},
                  log_every=100, movq_decoder_steps=2000, movq_decoder_batch=64, clip_warmup_steps=1500),
}


class Log:
    """Loss curves and stage timings, rewritten to curves.json after every logged step."""

    def __init__(self, path: Path):
        self.path, self.rows, self.stages = path, [], {}

    def point(self, stage: str, step: int, **values: float) -> None:
        self.rows.append({"stage": stage, "step": step, **{k: round(float(v), 6) for k, v in values.items()}})

    def stage(self, name: str, **info) -> None:
        self.stages[name] = info
        print(f"[{name}] {info}", flush=True)
        self.flush()

    def flush(self) -> None:
        self.path.write_text(json.dumps({"stages": self.stages, "curves": self.rows}, indent=0) + "\n")


def _loop(name: str, steps: int, deadline: float | None, log: Log, every: int, step_fn, stop: int | None = None) -> dict:
    t0 = time.time()
    done, ema = 0, None
    for i in range(min(steps, stop) if stop is not None else steps):
        if deadline is not None and time.time() - t0 > deadline:
            break
        losses = step_fn(i)
        done = i + 1
        ema = losses if ema is None else {k: 0.95 * ema[k] + 0.05 * v for k, v in losses.items()}
        if done % every == 0 or done == steps or done == stop:
            log.point(name, done, **ema)
            if done % (every * 10) == 0 or done == steps or done == stop:
                print(f"[{name}] step {done}/{steps} " + " ".join(f"{k}={v:.4f}" for k, v in ema.items())
                      + f" ({time.time() - t0:.0f} s)", flush=True)
                log.flush()
    return {"steps": done, "planned_steps": steps, "seconds": round(time.time() - t0, 1),
            "cut_by_deadline": done < (min(steps, stop) if stop is not None else steps), "final": {k: round(v, 5) for k, v in (ema or {}).items()}}


def _update(loss: torch.Tensor, o: torch.optim.Optimizer, sc, params) -> None:
    """One optimisation step of every stage: backward, gradient norm clipped at 1, AdamW, schedule."""
    o.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    o.step()
    sc.step()


def _images(pool: list[dict]) -> torch.Tensor:
    return torch.from_numpy(np.stack([e["image"] for e in pool])).permute(0, 3, 1, 2).contiguous()  # uint8 NCHW


def to_unit(x_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 pixels -> [-1, 1], the MoVQ's range (KandinskyV22Img2Img's prepare_image)."""
    return x_uint8.float() / 127.5 - 1


def clip_pixels(x_uint8: torch.Tensor, size: int = CLIP_SIZE) -> torch.Tensor:
    """CLIP preprocessing as the image processor does it: bicubic to `size`, clamp, normalise."""
    x = F.interpolate(x_uint8.float() / 255, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)
    return (x - CLIP_MEAN) / CLIP_STD


def _tokens(tok, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids and mask as the prior pipeline tokenizes (truncated at 77), padded only to the batch's
    longest: CLIP's text attention is causal, so later padding changes no earlier token's state."""
    t = tok(texts, padding="longest", max_length=77, truncation=True, return_tensors="pt")
    return t.input_ids, t.attention_mask


def _pad77(x: torch.Tensor) -> torch.Tensor:
    """Pad the token axis to 77 with zeros: the prior masks those positions out (attention_mask 0)."""
    return F.pad(x, (0, 0, 0, 77 - x.shape[1])) if x.dim() == 3 else F.pad(x, (0, 77 - x.shape[1]))


def _normal_kl(mean1, logvar1, mean2, logvar2):
    # KL(N1 || N2) per element (Nichol & Dhariwal 2021, improved DDPM, eq. for L_vlb terms).
    return 0.5 * (-1.0 + logvar2 - logvar1 + torch.exp(logvar1 - logvar2) + (mean1 - mean2) ** 2 * torch.exp(-logvar2))


class _DDPMTerms:
    """Posterior q(x_{t-1}|x_t,x_0) of the decoder's DDPM schedule, for the learned-variance loss."""

    def __init__(self, sched):
        b = sched.betas.double()
        ac = sched.alphas_cumprod.double()
        ac_prev = torch.cat([torch.ones(1, dtype=torch.float64), ac[:-1]])
        self.post_var = b * (1 - ac_prev) / (1 - ac)
        self.post_logvar = torch.log(torch.cat([self.post_var[1:2], self.post_var[1:]])).float()
        self.log_beta = torch.log(b).float()
        self.c0 = (b * ac_prev.sqrt() / (1 - ac)).float()
        self.ct = ((1 - ac_prev) * (1 - b).sqrt() / (1 - ac)).float()
        self.sqrt_ac = ac.sqrt().float()
        self.sqrt_1mac = (1 - ac).sqrt().float()

    def vlb(self, x0, xt, t, eps_pred_detached, v):
        """L_vlb with the 'learned_range' parametrisation (model log-variance interpolates log beta_t
        and log beta~_t by (v+1)/2, as diffusers' DDPMScheduler reads Kandinsky's extra channels)."""
        sh = (-1, 1, 1, 1)
        mean_q = self.c0[t].view(sh) * x0 + self.ct[t].view(sh) * xt
        logvar_q = self.post_logvar[t].view(sh)
        x0_pred = (xt - self.sqrt_1mac[t].view(sh) * eps_pred_detached) / self.sqrt_ac[t].view(sh)
        mean_p = self.c0[t].view(sh) * x0_pred + self.ct[t].view(sh) * xt
        frac = (v + 1) / 2
        logvar_p = frac * self.log_beta[t].view(sh) + (1 - frac) * logvar_q
        return (_normal_kl(mean_q, logvar_q, mean_p, logvar_p) / math.log(2.0)).mean()


class _EMA:
    """Exponential moving average of a module's weights (Ho et al. 2020 sample from an EMA of the
    parameters, decay 0.9999; a run this short uses 0.999), with the usual warm-up
    min(decay, (1 + i) / (10 + i)) so the early average is not stuck at the initialisation."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay, self.i = decay, 0
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        if self.decay <= 0:
            return
        d = min(self.decay, (1 + self.i) / (10 + self.i))
        self.i += 1
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.shadow[k].mul_(d).add_(v.detach(), alpha=1 - d)
            else:
                self.shadow[k].copy_(v)

    def apply(self, model: torch.nn.Module) -> torch.nn.Module:
        """Load the average into `model` (nothing when the average is off) and return it."""
        if self.decay > 0:
            model.load_state_dict(self.shadow)
        return model


# Auxiliary targets of CLIP's image tower: background (one of 6), and which cells hold an object
# and which colour, shape and size (multi-hot over cell, colour x cell, shape x cell, size x cell).
# The heads are dropped after training; they make the 64-d embedding carry the scene's attributes,
# position above all, which the contrastive loss alone never asked for at this batch size (a CPU
# run sees ~250k pairs, and colour alone tells most of a batch apart).
ATTRIBUTE_GROUPS = (("position", ("object",)), ("color", data.COLORS), ("shape", data.SHAPES), ("size", data.SIZES))


def attribute_targets(scenes: list[dict]) -> tuple[torch.Tensor, torch.Tensor]:
    """(background index (n,), multi-hot (n, sum over groups of len(group) * 9)) of each scene."""
    n_pos = len(data.POSITIONS)
    widths = [len(values) * n_pos for _, values in ATTRIBUTE_GROUPS]
    bg = torch.tensor([data.BACKGROUNDS.index(s["background"]) for s in scenes])
    hot = torch.zeros(len(scenes), sum(widths))
    for i, s in enumerate(scenes):
        for o in s["objects"]:
            p, base = data.POSITIONS.index(o["position"]), 0
            for (key, values), w in zip(ATTRIBUTE_GROUPS, widths):
                v = 0 if key == "position" else values.index(o[key])
                hot[i, base + v * n_pos + p] = 1
                base += w
    return bg, hot


def attribute_loss(a: torch.Tensor, bg: torch.Tensor, hot: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, share of scenes whose most likely cell holds an object) of the head outputs
    a = [background logits | one block per ATTRIBUTE_GROUPS entry]: cross-entropy on the background,
    and per group a cross-entropy against the scene's multi-hot spread evenly over its 1-2 objects
    (a softmax over the group's value x cell classes, which pulls harder than per-class BCE did)."""
    nb, n_pos = len(data.BACKGROUNDS), len(data.POSITIONS)
    logits, loss, off = a[:, nb:], F.cross_entropy(a[:, :nb], bg), 0  # logits line up with hot's columns
    for _, values in ATTRIBUTE_GROUPS:
        w = len(values) * n_pos
        t = hot[:, off:off + w]
        loss = loss + torch.sum(-t / t.sum(1, keepdim=True) * F.log_softmax(logits[:, off:off + w], 1), 1).mean()
        off += w
    cell_acc = hot[:, :n_pos].gather(1, logits[:, :n_pos].argmax(1, keepdim=True)).mean()  # the first group: the cell alone
    return loss, cell_acc


STAGES = ("movq", "clip", "prior", "unet", "inpaint", "unet_more", "inpaint_more", "movq_decoder")


@torch.enable_grad()  # whatever the caller set: the exporter's golden generator turns gradients off globally
def train(out: Path, preset: Preset, seed: int = 0, stages=STAGES, log_path: Path | None = None) -> dict:
    """Train the given stages in order; earlier stages' weights are read from `out` if not trained now."""
    from diffusers import DDPMScheduler, PriorTransformer, UNet2DConditionModel, UnCLIPScheduler, VQModel
    from transformers import CLIPTextModelWithProjection, CLIPVisionModelWithProjection
    from tools.export.configs import DECODER_SCHEDULER, PRIOR_SCHEDULER

    out.mkdir(parents=True, exist_ok=True)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    log = Log(log_path or out / "curves.json")
    t_all = time.time()
    t0 = time.time()
    pool = data.dataset(preset.pool, seed=seed, side=NATIVE_SIZE)
    imgs = _images(pool)
    caps = [e["captions"]["en"] + e["captions"]["ru"] for e in pool]
    attr_bg, attr_hot = attribute_targets([e["scene"] for e in pool])
    del pool
    log.stage("data", examples=len(caps), seconds=round(time.time() - t0, 1), device=str(dev),
              threads=torch.get_num_threads(), preset=asdict(preset), seed=seed)
    tok = tokenizer()
    torch.manual_seed(seed)
    fresh = build(MICRO)
    dl = preset.deadline_s

    def gen(k: int) -> torch.Generator:
        return torch.Generator().manual_seed(seed * 1000 + k)

    def pick(g, n, size):
        return torch.randint(0, n, (size,), generator=g)

    def opt(params, lr, wd=0.0):
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd, betas=(0.9, 0.99))

    def cosine(o, steps, warm=50):
        return torch.optim.lr_scheduler.LambdaLR(o, lambda i: min(1.0, (i + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(i, steps) / steps)) * 0.95 + 0.05)

    # ---------------------------------------------------------------- MoVQ decoder, longer
    def movq_decoder() -> None:
        if "movq_decoder" not in stages or preset.movq_decoder_steps == 0:
            return
        # The encoder (hence every latent the UNets were trained on) stays frozen; only the decoder
        # (post_quant_conv + decoder) trains on, so this stage can run last, or beside the others.
        ft = VQModel.from_pretrained(out / "movq_only" / "movq").to(dev).train()
        for mod in (ft.encoder, ft.quant_conv, ft.quantize):
            mod.requires_grad_(False)
        params = list(ft.post_quant_conv.parameters()) + list(ft.decoder.parameters())
        o = opt(params, 1e-3)
        sc = cosine(o, preset.movq_decoder_steps)
        g = gen(6)

        def step(i):
            x = to_unit(imgs[pick(g, len(imgs), preset.movq_decoder_batch)]).to(dev)
            with torch.no_grad():
                h = ft.encode(x).latents
            rec = ft.decode(h, force_not_quantize=True).sample
            rec_l = F.l1_loss(rec, x) + F.mse_loss(rec, x)
            _update(rec_l, o, sc, params)
            return {"recon": rec_l.item()}

        info = _loop("movq_decoder", preset.movq_decoder_steps, dl.get("movq_decoder"), log, preset.log_every, step,
                     preset.stop_at.get("movq_decoder"))
        ft = ft.eval().cpu()
        ft.save_pretrained(out / "movq_decoder" / "movq")
        for folder in ("decoder", "inpaint"):
            if (out / folder / "movq").is_dir():
                ft.save_pretrained(out / folder / "movq")
        log.stage("movq_decoder", **info)


    def finish() -> dict:
        movq_decoder()
        log.stage("total", seconds=round(time.time() - t_all, 1))
        return log.stages

    # Stop as soon as no asked stage needs what comes next (a resumed run with --stages).
    needs_clip = set(stages) & {"clip", "prior", "unet", "inpaint", "unet_more", "inpaint_more"}
    needs_embeddings = needs_clip - {"clip"}
    if not needs_clip and "movq" not in stages:
        return finish()

    # ---------------------------------------------------------------- MoVQ
    if "movq" in stages:
        movq = fresh["movq"].to(dev).train()
        o = opt(movq.parameters(), 1.5e-3)
        sc = cosine(o, preset.movq_steps)
        g = gen(1)

        def step(i):
            x = to_unit(imgs[pick(g, len(imgs), preset.movq_batch)]).to(dev)
            h = movq.encode(x).latents
            rec = movq.decode(h, force_not_quantize=True).sample
            # The decoder never quantises (KandinskyV22Pipeline: force_not_quantize=True), so the
            # codebook is not trained; the latents are kept near unit scale for the DDPM schedule.
            mu, var = h.mean((0, 2, 3)), h.var((0, 2, 3))
            reg = (mu ** 2).mean() + ((var - 1) ** 2).mean()
            rec_l = F.l1_loss(rec, x) + F.mse_loss(rec, x)
            loss = rec_l + 0.02 * reg
            _update(loss, o, sc, movq.parameters())
            return {"recon": rec_l.item(), "latent_reg": reg.item()}

        info = _loop("movq", preset.movq_steps, dl.get("movq"), log, preset.log_every, step, preset.stop_at.get("movq"))
        movq.eval().cpu().save_pretrained(out / "movq_only" / "movq")
        log.stage("movq", **info)
    if not needs_clip:
        return finish()
    movq = VQModel.from_pretrained(out / "movq_only" / "movq").eval().to(dev)

    # ---------------------------------------------------------------- CLIP
    if "clip" in stages:
        text = fresh["text_encoder"].to(dev).train()
        vision = fresh["image_encoder"].to(dev).train()
        logit_scale = torch.nn.Parameter(torch.tensor(math.log(10.0), device=dev))
        # head outputs: [background logits | cell | colour x cell | shape x cell | size x cell]
        heads = torch.nn.Linear(MICRO["image_encoder"]["projection_dim"], len(data.BACKGROUNDS) + attr_hot.shape[1]).to(dev)

        def aux(idx, ie):
            # On the unit-normalised embedding, as the contrastive loss sees it, times sqrt(D) so its
            # entries have unit RMS as nn.Linear's init expects (on the unit sphere itself the head's
            # logits stay near zero for thousands of steps: the first run's colour x cell top-1 was 11 %).
            return attribute_loss(heads(ie * ie.shape[-1] ** 0.5), attr_bg[idx].to(dev), attr_hot[idx].to(dev))

        if preset.clip_warmup_steps:
            wparams = list(vision.parameters()) + list(heads.parameters())
            wo = opt(wparams, 1e-3, 0.01)
            wsc = cosine(wo, preset.clip_warmup_steps)
            wg = gen(9)

            def warm_step(i):
                idx = pick(wg, len(imgs), preset.clip_batch)
                loss, cell_acc = aux(idx, F.normalize(vision(pixel_values=clip_pixels(imgs[idx]).to(dev)).image_embeds, dim=-1))
                _update(loss, wo, wsc, wparams)
                return {"aux": loss.item(), "cell_acc": cell_acc.item()}

            log.stage("clip_warmup", **_loop("clip_warmup", preset.clip_warmup_steps, dl.get("clip_warmup"), log,
                                             preset.log_every, warm_step, preset.stop_at.get("clip_warmup")))

        params = list(text.parameters()) + list(vision.parameters()) + [logit_scale] + list(heads.parameters())
        o = opt(params, 1e-3, 0.01)
        sc = cosine(o, preset.clip_steps)
        g = gen(2)
        rng = random.Random(seed * 7 + 2)

        def step(i):
            idx = pick(g, len(imgs), preset.clip_batch)
            ids, _ = _tokens(tok, [rng.choice(caps[j]) for j in idx.tolist()])
            te = text(input_ids=ids.to(dev)).text_embeds
            ie = vision(pixel_values=clip_pixels(imgs[idx]).to(dev)).image_embeds
            te, ie = F.normalize(te, dim=-1), F.normalize(ie, dim=-1)
            logits = logit_scale.clamp(max=math.log(100.0)).exp() * ie @ te.t()
            target = torch.arange(len(idx), device=dev)
            contrastive = (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2
            aux_loss, cell_acc = aux(idx, ie)
            loss = contrastive + preset.clip_aux * aux_loss
            _update(loss, o, sc, params)
            acc = (logits.argmax(1) == target).float().mean()
            return {"contrastive": contrastive.item(), "aux": aux_loss.item(), "i2t_acc": acc.item(), "cell_acc": cell_acc.item()}

        info = _loop("clip", preset.clip_steps, dl.get("clip"), log, preset.log_every, step, preset.stop_at.get("clip"))
        text.eval().cpu().save_pretrained(out / "clip_only" / "text_encoder")
        vision.eval().cpu().save_pretrained(out / "clip_only" / "image_encoder")
        log.stage("clip", **info)
    if not needs_embeddings:
        return finish()
    text = CLIPTextModelWithProjection.from_pretrained(out / "clip_only" / "text_encoder").eval().to(dev)
    vision = CLIPVisionModelWithProjection.from_pretrained(out / "clip_only" / "image_encoder").eval().to(dev)

    # CLIP image embeddings and MoVQ latents of the whole pool, once (frozen encoders).
    t0 = time.time()
    with torch.no_grad():
        emb, lat = [], []
        for s in range(0, len(imgs), 256):
            b = imgs[s:s + 256]
            emb.append(vision(pixel_values=clip_pixels(b).to(dev)).image_embeds.float())
            lat.append(movq.encode(to_unit(b).to(dev)).latents.float())
        emb, lat = torch.cat(emb), torch.cat(lat)
        # Decoder's unconditional embedding: what KandinskyV22PriorPipeline.get_zero_embed feeds.
        zero_emb = vision(pixel_values=torch.zeros(1, 3, CLIP_SIZE, CLIP_SIZE, device=dev)).image_embeds.float()
        clip_mean, clip_std = emb.mean(0, keepdim=True), emb.std(0, keepdim=True).clamp(min=1e-4)
    log.stage("embed", seconds=round(time.time() - t0, 1), latent_mean=round(lat.mean().item(), 4),
              latent_std=round(lat.std().item(), 4), embed_std=round(emb.std().item(), 4))

    # ---------------------------------------------------------------- prior
    if "prior" in stages:
        prior = fresh["prior"].to(dev).train()
        with torch.no_grad():
            prior.clip_mean.copy_(clip_mean)
            prior.clip_std.copy_(clip_std)
        prior.clip_mean.requires_grad_(False)
        prior.clip_std.requires_grad_(False)
        psched = UnCLIPScheduler.from_config(PRIOR_SCHEDULER)
        ac = psched.alphas_cumprod.to(dev)
        params = [p for n, p in prior.named_parameters() if n not in ("clip_mean", "clip_std")]
        o = opt(params, 5e-4, 0.01)
        sc = cosine(o, preset.prior_steps)
        avg = _EMA(prior, preset.ema)
        g = gen(3)
        rng = random.Random(seed * 7 + 3)

        def step(i):
            idx = pick(g, len(imgs), preset.prior_batch)
            texts = [rng.choice(caps[j]) if rng.random() >= 0.1 else "" for j in idx.tolist()]
            ids, mask = _tokens(tok, texts)
            with torch.no_grad():
                to = text(input_ids=ids.to(dev))
            x0 = (emb[idx.to(dev)] - clip_mean) / clip_std
            t = torch.randint(0, psched.config.num_train_timesteps, (len(idx),), generator=g).to(dev)
            noise = torch.randn(x0.shape, generator=g).to(dev)
            a = ac[t].view(-1, 1)
            xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
            pred = prior(xt, timestep=t, proj_embedding=to.text_embeds, encoder_hidden_states=_pad77(to.last_hidden_state),
                         attention_mask=_pad77(mask).bool().to(dev)).predicted_image_embedding
            loss = F.mse_loss(pred, x0)
            _update(loss, o, sc, params)
            avg.update(prior)
            return {"x0_mse": loss.item()}

        info = _loop("prior", preset.prior_steps, dl.get("prior"), log, preset.log_every, step, preset.stop_at.get("prior"))
        save_prior_folder(out / "prior", text.cpu(), vision.cpu(), avg.apply(prior).eval().cpu())
        text.to(dev), vision.to(dev)
        log.stage("prior", **info)

    # ---------------------------------------------------------------- UNet and inpainting UNet
    dsched = DDPMScheduler.from_config(DECODER_SCHEDULER)
    terms = _DDPMTerms(dsched)
    ac_d = dsched.alphas_cumprod.float().to(dev)

    def unet_step(unet, o, sc, avg, g, batch, inpaint: bool):
        idx = pick(g, len(imgs), batch)
        x0 = lat[idx.to(dev)]
        cond = emb[idx.to(dev)]
        drop = (torch.rand(batch, generator=g) < 0.1).to(dev)
        cond = torch.where(drop[:, None], zero_emb.expand_as(cond), cond)
        t = torch.randint(0, dsched.config.num_train_timesteps, (batch,), generator=g)
        noise = torch.randn(x0.shape, generator=g).to(dev)
        a = ac_d[t.to(dev)].view(-1, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        inp = xt
        if inpaint:
            keep = _random_keep_masks(g, batch, x0.shape[-1]).to(dev)
            inp = torch.cat([xt, x0 * keep, keep], 1)
        outp = unet(inp, t.to(dev), encoder_hidden_states=None, added_cond_kwargs={"image_embeds": cond}).sample
        eps, v = outp[:, :4], outp[:, 4:]
        mse = F.mse_loss(eps, noise)
        vlb = terms.vlb(x0, xt, t.to(dev), eps.detach(), v)
        # Improved DDPM's hybrid loss: lambda = 0.001 times T * L_t, i.e. L_t itself for T = 1000
        # (guided-diffusion scales the vb term by num_timesteps / 1000).
        loss = mse + vlb
        _update(loss, o, sc, unet.parameters())
        avg.update(unet)
        return {"eps_mse": mse.item(), "vlb": vlb.item()}

    if "unet" in stages:
        unet = fresh["unet"].to(dev).train()
        o = opt(unet.parameters(), 1e-3, 0.01)
        sc = cosine(o, preset.unet_steps)
        avg = _EMA(unet, preset.ema)
        g = gen(4)
        info = _loop("unet", preset.unet_steps, dl.get("unet"), log, preset.log_every,
                     lambda i: unet_step(unet, o, sc, avg, g, preset.unet_batch, False), preset.stop_at.get("unet"))
        save_decoder_folder(out / "decoder", avg.apply(unet).eval().cpu(), movq.cpu(), inpaint=False)
        movq.to(dev)
        log.stage("unet", **info)

    if "inpaint" in stages:
        base = UNet2DConditionModel.from_pretrained(out / "decoder" / "unet")
        unet = fresh["unet_inpaint"]
        # Start from the text-to-image UNet; the 5 extra input channels start at zero (as the
        # Stable Diffusion inpainting checkpoints were initialised).
        sd = base.state_dict()
        w = sd["conv_in.weight"]
        sd["conv_in.weight"] = torch.cat([w, torch.zeros(w.shape[0], 5, *w.shape[2:])], 1)
        unet.load_state_dict(sd)
        unet = unet.to(dev).train()
        o = opt(unet.parameters(), 5e-4, 0.01)
        sc = cosine(o, preset.inpaint_steps)
        avg = _EMA(unet, preset.ema)
        g = gen(5)
        info = _loop("inpaint", preset.inpaint_steps, dl.get("inpaint"), log, preset.log_every,
                     lambda i: unet_step(unet, o, sc, avg, g, preset.inpaint_batch, True), preset.stop_at.get("inpaint"))
        save_decoder_folder(out / "inpaint", avg.apply(unet).eval().cpu(), movq.cpu(), inpaint=True)
        log.stage("inpaint", **info)

    for name, folder, steps, batch, k in (("unet_more", "decoder", preset.unet_more_steps, preset.unet_batch, 7),
                                          ("inpaint_more", "inpaint", preset.inpaint_more_steps, preset.inpaint_batch, 8)):
        if name not in stages or steps == 0:
            continue
        unet = UNet2DConditionModel.from_pretrained(out / folder / "unet").to(dev).train()
        o = opt(unet.parameters(), 5e-4, 0.01)
        sc = cosine(o, steps)
        avg = _EMA(unet, preset.ema)
        g = gen(k)
        info = _loop(name, steps, dl.get(name), log, preset.log_every,
                     lambda i: unet_step(unet, o, sc, avg, g, batch, folder == "inpaint"), preset.stop_at.get(name))
        avg.apply(unet).eval().cpu().save_pretrained(out / folder / "unet")
        log.stage(name, **info)

    return finish()


def _random_keep_masks(g: torch.Generator, n: int, side: int) -> torch.Tensor:
    """(n,1,side,side) masks, 1 = keep (the pipelines' convention after `1 - mask`): a random
    rectangle hole, a border kept around a hole (outpainting), everything masked or nothing."""
    m = torch.ones(n, 1, side, side)
    kind = torch.randint(0, 10, (n,), generator=g)
    for i in range(n):
        k = int(kind[i])
        if k == 0:
            m[i] = 0  # pure text-to-image
        elif k == 1:
            continue  # nothing to fill
        else:
            h, w = (int(x) for x in torch.randint(1, side, (2,), generator=g))
            y, x = int(torch.randint(0, side - h + 1, (1,), generator=g)), int(torch.randint(0, side - w + 1, (1,), generator=g))
            if k <= 6:
                m[i, :, y:y + h, x:x + w] = 0  # hole
            else:
                m[i] = 0
                m[i, :, y:y + h, x:x + w] = 1  # keep a window, fill around it (outpainting)
    return m


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.train", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="folder for the checkpoints and curves.json")
    p.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--stages", nargs="+", default=list(STAGES), choices=list(STAGES))
    p.add_argument("--log", type=Path, help="curves file (default OUT/curves.json; give another to run a stage beside a running one)")
    p.add_argument("--no-deadline", action="store_true", help="ignore the preset's per-stage deadlines")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    preset = PRESETS[a.preset]
    if a.no_deadline:
        preset = Preset(**{**asdict(preset), "deadline_s": {}})
    train(a.out, preset, a.seed, tuple(a.stages), a.log)
    return 0
