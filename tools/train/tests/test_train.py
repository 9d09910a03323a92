"""The training command on tiny data: every stage runs, writes loadable checkpoints, and is reproducible."""
import hashlib
import json
import warnings
from pathlib import Path

import pytest
import torch

from tools.train.train import PRESETS, main

warnings.filterwarnings("ignore")


def _weights_digest(root: Path) -> dict[str, str]:
    from safetensors.torch import load_file

    out = {}
    for f in sorted(root.rglob("*.safetensors")):
        h = hashlib.sha256()
        for k, v in sorted(load_file(str(f)).items()):
            h.update(k.encode() + v.contiguous().numpy().tobytes())
        out[str(f.relative_to(root))] = h.hexdigest()
    return out


# Run "b" is resumed in pieces with --stages, as long runs are (tools/train/README.md: the committed run).
PIECES = {"a": [[]], "b": [["movq"], ["clip"], ["prior", "unet", "inpaint", "unet_more", "inpaint_more"], ["movq_decoder"]]}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    runs = []
    for name in ("a", "b"):
        out = tmp_path_factory.mktemp(name)
        threads = torch.get_num_threads()
        try:
            for stages in PIECES[name]:
                extra = ["--stages", *stages, "--log", str(out / f"curves-{stages[0]}.json")] if stages else []
                assert main(["--out", str(out), "--preset", "tiny", "--seed", "7", *extra]) == 0
        finally:
            torch.set_num_threads(threads)
        runs.append(out)
    return runs


def test_same_command_and_seed_give_the_same_weights_whole_or_resumed_in_pieces(two_runs):
    a, b = (_weights_digest(r) for r in two_runs)
    # prior (3 models), decoder and inpaint (unet + movq each), and the intermediate stage folders
    assert len(a) >= 9
    assert a == b


def test_every_stage_logged_its_planned_steps(two_runs):
    log = json.loads((two_runs[0] / "curves.json").read_text())
    tiny = PRESETS["tiny"]
    for stage, steps in [("movq", tiny.movq_steps), ("clip", tiny.clip_steps), ("prior", tiny.prior_steps),
                         ("unet", tiny.unet_steps), ("inpaint", tiny.inpaint_steps)]:
        assert log["stages"][stage]["steps"] == steps and not log["stages"][stage]["cut_by_deadline"]
        assert any(r["stage"] == stage for r in log["curves"])


def test_checkpoints_run_in_the_diffusers_pipelines_at_native_size(two_runs):
    from diffusers import KandinskyV22InpaintPipeline, KandinskyV22Pipeline, KandinskyV22PriorPipeline

    from tools.train.models import NATIVE_SIZE

    out = two_runs[0]
    prior = KandinskyV22PriorPipeline.from_pretrained(out / "prior")
    emb = prior("a red circle on the left", num_inference_steps=2, generator=torch.Generator().manual_seed(0))
    dec = KandinskyV22Pipeline.from_pretrained(out / "decoder")
    img = dec(image_embeds=emb.image_embeds, negative_image_embeds=emb.negative_image_embeds, height=NATIVE_SIZE,
              width=NATIVE_SIZE, num_inference_steps=2, output_type="np").images
    assert img.shape == (1, NATIVE_SIZE, NATIVE_SIZE, 3)
    inp = KandinskyV22InpaintPipeline.from_pretrained(out / "inpaint")
    mask = torch.zeros(NATIVE_SIZE, NATIVE_SIZE)
    mask[16:48, 16:48] = 1
    res = inp(image=torch.from_numpy(img[0]).permute(2, 0, 1)[None] * 2 - 1, mask_image=mask[None, None],
              image_embeds=emb.image_embeds, negative_image_embeds=emb.negative_image_embeds, height=NATIVE_SIZE,
              width=NATIVE_SIZE, num_inference_steps=2, output_type="np").images
    assert res.shape == (1, NATIVE_SIZE, NATIVE_SIZE, 3)
