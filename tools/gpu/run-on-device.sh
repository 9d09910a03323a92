#!/usr/bin/env bash
# Issue 5 item 9 on the GPU machine, in one call: full-size Kandinsky 2.2 stages (random
# weights) timed in PyTorch (fp16, fp32) and in OUR runtime (workers/runtime/ort.ts:
# onnxruntime-web's WebGPU EP in Node through Dawn), one markdown table.
#
# Here first: bash tools/gpu/prepare.sh. Then the device call:
#   command "bash tools/gpu/run-on-device.sh", carry [".gpu", ".gl"], timeout_s 480
# Results, written as they come (a timeout still returns them): $OUT/results.md (the table),
# $OUT/results.json, $OUT/web-rows.jsonl, $OUT/probe.json (the adapter), $OUT/log.txt.
#
# Timeline (BUDGET_S seconds of wall clock in all, default 420):
#   setup (Vulkan loader, diffusers, Node: ~15 s) -> WebGPU probe -> in the background, one
#   export process per stage on the CPU (MoVQ decoder fp32; UNet, prior, text encoder with
#   $QUANT weights and fp32 compute: the fp32 UNet and prior exceed 4 GiB; int4 by default, as before, though
#   the native EP also runs int8, which the JSEP build refused) -> meanwhile PyTorch timings on the GPU -> then our
#   runtime, stage by stage as graphs appear (tools/gpu/webgpu-bench.ts), each in its own
#   process with its own time budget; stages that cannot finish in time are reported as skipped.
#
# Environment: ORT_BUILDS (webgpu,webgpu+capture,jsep: onnxruntime-web builds to time: native EP, native EP with the
#   UNet and prior bound and graph-captured as the GPU loops run them, then the legacy JSEP),
# SIDES (e.g. 512: only these pixel sides), OURS_RESERVE_S (150: seconds PyTorch leaves for our runtime), PROFILE (set: one extra run per shape with JSEP's WebGPU kernel profiler), LAYOUT (NHWC | NCHW: the WebGPU provider's layout), BUDGET_S (420), QUANT (int4), STAGES (movq_decoder,unet,prior,text_encoder: the
# order is the priority), REPEATS (5), SIZE (full | tiny), LOCAL=1 (a rehearsal on a machine
# without a GPU: no dpkg, SwiftShader's Vulkan from Debian's chromium, PyTorch on the CPU,
# tiny architecture), DAWN_FLAGS (space-separated flags for the webgpu package's create()),
# E2E (1: after the stage table, if the four exports are there and E2E_MIN_S (100) seconds are left, one
#   text-to-image through the engine's generate, webgpu-bench e2e, $OUT/e2e.md; only: exports and that alone,
#   no PyTorch and no stage table; 0: never), E2E_SIDE (512), E2E_STEPS (25 prior + 25 DPM++ 2M),
#   E2E_BUILDS (webgpu+bound,webgpu+capture: the app's GPU loops without and with capture; webgpu: host loops),
# BASELINE (1: first, on an idle CPU, tools/export/torch_baseline.py: what the PyTorch UNet baseline measures, eager
#   against CUDA graph, idle against a loaded CPU, $OUT/baseline.md; 0: never),
# PARITY (1: the golden cases of tests/golden through our runtime on this GPU, webgpu-bench parity, on the shipped tiny
#   bundle and on the same bundle with the exporter's attention surgery, $OUT/parity.md: in E2E=only mode while the
#   exports run, else after everything else if PARITY_MIN_S (150) seconds are left; 0: never; needs
#   public/models/tiny-kandinsky-2-2 and tests/golden in the tree), PARITY_CASES (one case per stage with attention:
#   text_encoder,image_encoder,prior_g1_s3,t2i_dpmpp_64x64,inpaint_ddpm_rect,movq; all: every case), PARITY_GOLDEN (tests/golden).
set -uo pipefail
# From tools/gpu/ (the repo's copy) or from .gpu/ (the copy prepare.sh puts there, for a call whose tree is older).
here=$(cd "$(dirname "$0")" && pwd)
case "$here" in */tools/gpu) cd "$here/../.." ;; *) cd "$here/.." ;; esac
ORT_BUILDS=${ORT_BUILDS:-webgpu,webgpu+capture,jsep}
T0=$(date +%s)
BUDGET_S=${BUDGET_S:-420}
END=$((T0 + BUDGET_S))
LOCAL=${LOCAL:-0}
if [ "$LOCAL" = 1 ]; then SIZE=${SIZE:-tiny}; DEVICE=${DEVICE:-cpu}; else SIZE=${SIZE:-full}; DEVICE=${DEVICE:-cuda}; fi
QUANT=${QUANT:-int4}
STAGES=${STAGES:-movq_decoder,unet,prior,text_encoder}
REPEATS=${REPEATS:-5}
PY=${PYTHON:-python3}
OUT=${OUT:-/tmp/kweb-gpu-out}
W=${WORK:-/tmp/kweb-gpu}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
left() { local l=$((END - $(date +%s))); echo $((l > 1 ? l : 1)); }
within() { local l=$(($(left) - $1)); echo $((l > 1 ? l : 1)); } # seconds left, less a margin, at least 1
say() { echo "[run-on-device $(date +%T) +$(($(date +%s) - T0))s] $*"; }
dawn=()
for f in ${DAWN_FLAGS:-}; do dawn+=(--dawn "$f"); done

say "size $SIZE, stages $STAGES, quantize $QUANT, builds $ORT_BUILDS, sides ${SIDES:-all}, budget ${BUDGET_S}s, work $W, out $OUT"
rm -rf "$W"
mkdir -p "$W/tmp" "$W/app"
nproc; free -g | head -2; df -h /tmp | tail -1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true

# --- Vulkan for Dawn (device README): loader and glvnd from .gl, or SwiftShader here.
if [ "$LOCAL" = 1 ]; then
  export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
else
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
ldconfig -p | grep -i libvulkan || say "no libvulkan in ldconfig"
ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>/dev/null

# --- Python: diffusers is missing from the GPU image.
if ! "$PY" -c "import diffusers" 2>/dev/null; then
  mkdir -p /tmp/site
  if [ -f .gpu/diffusers.tar.xz ]; then
    tar -xJf .gpu/diffusers.tar.xz -C /tmp/site
  else
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  fi
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD" PYTHONUNBUFFERED=1 KANDINSKY_EXPORT_TMP="$W/tmp"

# --- Node and the bundled bench (tools/gpu/prepare.sh).
xz -dc .gpu/node.xz >"$W/node" && chmod +x "$W/node"
tar -xJf .gpu/app.tar.xz -C "$W/app"
NODE=$W/node
BENCH=$W/app/webgpu-bench.mjs
say "node $("$NODE" --version), setup done"

probe() { timeout 60 "$NODE" "$BENCH" probe "${dawn[@]}" >"$OUT/probe.json"; }
webgpu=1
if ! probe; then
  nv=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ "$LOCAL" != 1 ] && [ -f "$nv" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
    say "no adapter; again with VK_DRIVER_FILES=$nv"
    export VK_DRIVER_FILES=$nv __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
    probe || webgpu=0
  else
    webgpu=0
  fi
fi
cat "$OUT/probe.json"; echo
[ "$webgpu" = 1 ] || say "no WebGPU adapter: PyTorch figures only"

E2E=${E2E:-1}
BASELINE=${BASELINE:-1}
PARITY=${PARITY:-1}
# --- what the PyTorch baseline measures (issue 9 item 6: 25.9 against 51.9 ms), on an idle CPU: before the exports.
if [ "$BASELINE" = 1 ]; then
  say "PyTorch baseline probe (idle CPU, then loaded)"
  timeout -k 5 "$(within 60 | awk '{print ($1 > 120 ? 120 : $1)}')" "$PY" -W ignore -m tools.export.torch_baseline --size "$SIZE" --device "$DEVICE" \
    --json "$OUT/baseline.json" --md "$OUT/baseline.md" --deadline-s 90 2>&1 | grep -v "should be kept in float32" ||
    say "the baseline probe failed or ran out of time (see baseline.md)"
fi

# --- the golden cases on this GPU: the shipped tiny bundle, then the same with the attention surgery (derived here).
tiny=public/models/tiny-kandinsky-2-2
parity() {
  local golden=${PARITY_GOLDEN:-tests/golden} cases=${PARITY_CASES:-text_encoder,image_encoder,prior_g1_s3,t2i_dpmpp_64x64,inpaint_ddpm_rect,movq}
  if [ ! -f "$tiny/manifest.json" ] || [ ! -d "$golden" ]; then say "parity: no $tiny or $golden in the tree; skipped"; return 0; fi
  local only=(--cases "$cases")
  [ "$cases" = all ] && only=()
  "$PY" -W ignore -m tools.export.variant --from "$tiny" --out "$W/tiny-attention" --dtype fp32 --quantize none \
    --surgery attention groupnorm_affine attention_scale >/dev/null 2>&1 || say "parity: could not derive the attention-surgery bundle"
  local b
  for b in "$tiny" "$W/tiny-attention"; do
    [ -f "$b/manifest.json" ] || continue
    [ "$(left)" -gt 40 ] || { say "parity: $(left)s left; $b skipped"; continue; }
    timeout -k 5 "$(within 20)" "$NODE" "$BENCH" parity --bundle "$b" --golden "$golden" --out "$OUT" \
      --label "$(basename "$b")" "${only[@]}" --deadline-s "$(within 30)" "${dawn[@]}" | grep -v "^    " || true
  done
}

# --- exports, one background process per stage (CPU only; the GPU stays free for timing).
pids=()
export_stage() { # stage quantize threads
  local s=$1 q=$2 th=$3
  (
    OMP_NUM_THREADS=$th timeout -k 5 "$(within 15)" "$PY" -W ignore -m tools.export.gpu_bench --out "$W" \
      --size "$SIZE" --web-export "$s" --quantize "$q" --threads "$th" 2>&1 | sed -u "s/^/[export $s] /"
    rc=${PIPESTATUS[0]}
    if [ ! -f "$W/web/$s/stage.json" ] && [ ! -f "$W/web/$s/failed.txt" ]; then
      mkdir -p "$W/web/$s"
      echo "exit $rc (killed for memory or time?)" >"$W/web/$s/failed.txt"
    fi
  ) &
  pids+=($!)
}
if [ "$webgpu" = 1 ]; then
  for s in ${STAGES//,/ }; do
    case $s in
      movq_decoder) export_stage "$s" none 2 ;;
      unet) export_stage "$s" "$QUANT" 4 ;;
      prior) export_stage "$s" "$QUANT" 4 ;;
      text_encoder) export_stage "$s" "$QUANT" 3 ;;
      *) say "unknown stage $s" ;;
    esac
  done
fi

E2E_MIN_S=${E2E_MIN_S:-100}
# One text-to-image through the engine (issue 9 item 6): needs the four stages exported.
e2e() {
  for s in text_encoder prior unet movq_decoder; do
    [ -f "$W/web/$s/stage.json" ] || { say "e2e: no export of $s; skipped"; return 0; }
  done
  say "end to end through generate ($(left)s left)"
  "$NODE" "$BENCH" e2e --work "$W" --out "$OUT" --side "${E2E_SIDE:-512}" --steps "${E2E_STEPS:-25}" --prior-steps "${E2E_STEPS:-25}" \
    --ort-builds "${E2E_BUILDS:-webgpu+bound,webgpu+capture}" --repeats 2 --deadline-s "$(within 15)" "${dawn[@]}" ||
    say "the end-to-end run failed (see e2e.md)"
}
if [ "$E2E" = only ]; then
  [ "$webgpu" = 1 ] || { say "no WebGPU adapter: nothing to time"; exit 0; }
  # The GPU is idle while the exports run on the CPU: the golden cases first.
  [ "$PARITY" = 1 ] && parity
  say "E2E=only: waiting for the four exports"
  while [ "$(left)" -gt 30 ]; do
    n=0
    for s in text_encoder prior unet movq_decoder; do [ -f "$W/web/$s/stage.json" ] && n=$((n + 1)); [ -f "$W/web/$s/failed.txt" ] && n=99; done
    [ "$n" -ge 4 ] && break
    sleep 2
  done
  e2e
  say "done in $(($(date +%s) - T0)) s"
  exit 0
fi

# --- PyTorch on the GPU (exports run on the CPU meanwhile).
limit=$(within "${OURS_RESERVE_S:-150}") # the rest is kept for our runtime
[ "$limit" -gt 150 ] && limit=150
[ "$webgpu" = 1 ] || limit=$(within 10)
say "PyTorch timings (limit ${limit}s)"
timeout -k 5 "$limit" "$PY" -W ignore -m tools.export.gpu_bench --out "$W" --size "$SIZE" --device "$DEVICE" \
  --torch-json "$W/torch.json" --stages "$STAGES" 2>&1 | grep -v "should be kept in float32"

# --- our runtime, stage by stage as the graphs appear; writes $OUT/results.md after each.
say "our runtime ($(left)s left)"
skip=()
[ "$webgpu" = 1 ] || skip=(--skip-all "no WebGPU adapter (see probe in log.txt)")
# Prints the final table at the end; $OUT/results.md is rewritten after every stage.
"$NODE" "$BENCH" run --work "$W" --torch "$W/torch.json" --probe-json "$OUT/probe.json" --out "$OUT" --ep webgpu --size "$SIZE" --stages "$STAGES" \
  --repeats "$REPEATS" --deadline-s "$(within 10)" "${dawn[@]}" "${skip[@]}" ${PROFILE:+--profile} ${LAYOUT:+--layout "$LAYOUT"} \
  --ort-builds "$ORT_BUILDS" ${SIDES:+--sides "$SIDES"} \
  --title "Kandinsky 2.2 ($SIZE size, random weights): PyTorch vs our runtime (onnxruntime-web WebGPU in Node, Dawn)" ||
  { say "the bench runner failed; last results.md:"; cat "$OUT/results.md" 2>/dev/null; }

if [ "$E2E" = 1 ] && [ "$webgpu" = 1 ]; then
  if [ "$(left)" -ge "$E2E_MIN_S" ]; then e2e; else say "e2e: $(left)s left, needs $E2E_MIN_S; skipped"; fi
fi

if [ "$PARITY" = 1 ] && [ "$webgpu" = 1 ]; then
  if [ "$(left)" -ge "${PARITY_MIN_S:-150}" ]; then parity; else say "parity: $(left)s left, needs ${PARITY_MIN_S:-150}; skipped"; fi
fi

# Exports still running (out of time): end them (their `timeout` passes the signal on).
for p in "${pids[@]}"; do
  for c in $(pgrep -P "$p" 2>/dev/null); do kill "$c" 2>/dev/null; done
done
du -sh "$W"/web/* 2>/dev/null
say "done in $(($(date +%s) - T0)) s"
