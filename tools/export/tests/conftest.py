"""Tiny random Kandinsky 2.2 checkpoints, exported bundles and golden cases, built once per session."""
from __future__ import annotations

import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore")

VARIANTS = {"fp32": ("fp32", "none"), "fp16": ("fp16", "none"), "int8": ("fp32", "int8")}


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    from tools.export.configs import build_decoder_checkpoint, build_prior_checkpoint

    root = tmp_path_factory.mktemp("checkpoints")
    prior = build_prior_checkpoint(root / "prior", seed=0)
    decoder = build_decoder_checkpoint(root / "decoder", seed=10)
    inpaint = build_decoder_checkpoint(root / "inpaint", seed=20, inpaint=True, movq_from=decoder)
    return {"prior": prior, "decoder": decoder, "inpaint": inpaint}


def export(checkpoints, out: Path, dtype: str, quant: str, *extra: str) -> int:
    from tools.export.cli import main

    return main(["--out", str(out), "--dtype", dtype, "--quantize", quant, "--prior", str(checkpoints["prior"]),
                 "--decoder", str(checkpoints["decoder"]), "--inpaint", str(checkpoints["inpaint"]), *extra])


@pytest.fixture(scope="session")
def bundles(checkpoints, tmp_path_factory) -> dict[str, Path]:
    """fp32, fp16 and int8 bundles; the exporter's own verification must pass for each."""
    out = {}
    for name, (dtype, quant) in VARIANTS.items():
        folder = tmp_path_factory.mktemp(f"bundle-{name}")
        assert export(checkpoints, folder, dtype, quant) == 0, f"{name} export or its verification failed"
        out[name] = folder
    return out


@pytest.fixture(scope="session")
def golden(checkpoints, bundles, tmp_path_factory) -> Path:
    from tools.export.golden import main

    folder = tmp_path_factory.mktemp("golden")
    assert main(["--bundle", str(bundles["fp32"]), "--prior", str(checkpoints["prior"]),
                 "--decoder", str(checkpoints["decoder"]), "--inpaint", str(checkpoints["inpaint"]),
                 "--out", str(folder)]) == 0
    return folder
