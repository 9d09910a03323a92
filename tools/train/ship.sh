#!/usr/bin/env bash
# Export a training run (python -m tools.train --out CKPT) as the shipped micro bundles, with golden
# cases from the same weights. Usage: bash tools/train/ship.sh CKPT
#   public/models/micro-kandinsky-2-2/        fp32, the app's built-in model
#   public/models/micro-kandinsky-2-2-fp16/   fp16 weights and compute (WebGPU shader-f16)
#   public/models/micro-kandinsky-2-2-int8/   int8 weights, fp32 compute (wasm; WebGPU on the native EP)
#   public/models/micro-kandinsky-2-2-int4/   int4 MatMul + int8 conv weights, fp32 compute
#   tests/golden-micro/                       golden cases of the fp32 bundle (npm run test:parity:micro)
set -euo pipefail
cd "$(dirname "$0")/../.."
CKPT=${1:?usage: bash tools/train/ship.sh CKPT}
PY=${PYTHON:-.venv/bin/python}
DESC="Micro Kandinsky 2.2 trained on procedurally generated abstract compositions (tools/train): circles, rings, squares, triangles, lines and arcs in named colours and positions; 64x64; English and Russian prompts."
src=(--prior "$CKPT/prior" --decoder "$CKPT/decoder" --inpaint "$CKPT/inpaint")
for v in fp32:none fp16:none fp32:int8 fp32:int4; do
  dtype=${v%%:*}; quant=${v##*:}
  case $v in fp32:none) dir=micro-kandinsky-2-2;; fp16:none) dir=micro-kandinsky-2-2-fp16;; *) dir=micro-kandinsky-2-2-$quant;; esac
  rm -rf "public/models/$dir"
  "$PY" -m tools.export --out "public/models/$dir" --dtype "$dtype" --quantize "$quant" "${src[@]}" \
    --name "$dir" --description "$DESC" --native-size 64 64
done
rm -rf tests/golden-micro
"$PY" -m tools.export.golden --bundle public/models/micro-kandinsky-2-2 "${src[@]}" --out tests/golden-micro \
  --only tokenizer text_encoder image_encoder movq prior_g1_s3 prior_neg_g4_s3 t2i_ddpm_64x64 t2i_dpmpp_64x64 img2img_ddpm inpaint_ddpm_rect
du -sh public/models/micro-kandinsky-2-2* tests/golden-micro
