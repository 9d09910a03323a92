#!/usr/bin/env bash
# Installs the exporter's Python requirements into .venv/ (PyPI only) and runs its tests and the training code's (tiny data).
# Called from .ci/run; expects `npm ci` to have run (the parity test drives tools/parity.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
start=$(date +%s)
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tools/export/requirements.txt
echo "tools/export: pip install took $(( $(date +%s) - start )) s"
.venv/bin/python -m pytest tools/export/tests tools/train/tests -q -p no:cacheprovider "$@"
# The opt-in attention surgery's graphs through the golden cases on WebGPU (Chromium + SwiftShader).
bash tools/parity/attention-webgpu.sh
