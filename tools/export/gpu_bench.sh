#!/usr/bin/env bash
# Full-size Kandinsky 2.2 with random weights on a GPU machine: PyTorch eager (fp16/fp32) vs
# our exported graphs in onnxruntime, per stage; prints markdown tables (tools/export/README.md).
#
# The GPU image has torch 2.11, transformers, onnx and onnxruntime but not diffusers. Once, here:
#   echo /.whl/ >> .git/info/exclude   # already in .gitignore
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux2014_x86_64 -d .whl diffusers==0.42.1
# then run this script with `.whl` carried; results land in $OUT (or /tmp/gpu_bench).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! python3 -c "import diffusers" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD" PYTHONUNBUFFERED=1
out=${OUT:-/tmp/gpu_bench}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
timeout 470 python3 -W ignore -m tools.export.gpu_bench --out "$out/work" --budget-s 330 "$@" 2>&1 | tee "$out/gpu_bench.log"
rm -rf "$out/work/work" "$out/work"/bundle-*   # graphs stay behind: too big to bring back
