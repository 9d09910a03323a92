#!/usr/bin/env bash
# The exporter's opt-in `attention` surgery (com.microsoft.MultiHeadAttention; docs/gpu-surgery.md) on WebGPU:
# derives the attention-fused twin of each tiny bundle (into tmp/, git-ignored) and runs its golden cases there.
# Needs the exporter's venv (.venv, tools/export/ci.sh makes it); CI runs it after the exporter's tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
for pair in 2-2:golden 2-1:golden-2-1; do
  model=${pair%%:*} golden=${pair#*:}
  out=tmp/tiny-kandinsky-$model-attention
  .venv/bin/python -m tools.export.variant --from "public/models/tiny-kandinsky-$model" --out "$out" \
    --surgery attention groupnorm_affine attention_scale >/dev/null
  npm run -s parity -- --golden "tests/$golden" --bundle "$out" --ep webgpu
done
