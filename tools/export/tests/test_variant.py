"""Variants derived from an fp32 bundle equal the exporter's own variants, file for file."""
from __future__ import annotations

import json

import pytest

from tools.export.variant import derive


@pytest.mark.parametrize("name", ["fp16", "int8"])
def test_derived_variant_equals_exported(bundles, tmp_path, name):
    from .conftest import VARIANTS

    dtype, quant = VARIANTS[name]
    out = tmp_path / name
    derived = derive(bundles["fp32"], out, dtype, quant)
    exported = json.loads((bundles[name] / "manifest.json").read_text())
    assert {k: v for k, v in derived.items() if k not in ("name", "description")} == {k: v for k, v in exported.items() if k not in ("name", "description")}
    for stage, entry in exported["stages"].items():
        assert (out / entry["file"]).read_bytes() == (bundles[name] / entry["file"]).read_bytes(), stage
    assert (out / "tokenizer" / "tokenizer.json").read_bytes() == (bundles[name] / "tokenizer" / "tokenizer.json").read_bytes()
    assert (out / "prior_stats.json").exists()


def test_refuses_a_variant_as_source(bundles, tmp_path):
    with pytest.raises(SystemExit, match="derive variants from an fp32 one"):
        derive(bundles["int8"], tmp_path / "x", "fp16", "none")
