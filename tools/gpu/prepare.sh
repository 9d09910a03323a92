#!/usr/bin/env bash
# Builds, on this machine, what tools/gpu/run-on-device.sh needs on the GPU machine (which has
# no Node, no node_modules, no diffusers and no Vulkan loader), in git-ignored folders that the
# device call carries: carry [".gpu", ".gl"].
#   .gpu/node.xz      this machine's Node (x86-64 Linux), stripped and xz-compressed (~22 MB)
#   .gpu/app.tar.xz   webgpu-bench.mjs (esbuild bundle of tools/gpu/webgpu-bench.ts), reference/ (the tiny bundle's
#                     manifest.json and tokenizer/), and a
#                     node_modules/ with only what it loads at run time: onnxruntime-web's
#                     'webgpu' bundle + its asyncify wasm (the native EP), its 'all' bundle + JSEP
#                     wasm (the legacy build, for comparison), and the `webgpu` package (Dawn, linux-x64)
#   .gpu/run-on-device.sh  a copy of tools/gpu/run-on-device.sh, for a call whose tree is older
#   .gpu/diffusers.tar.xz  the diffusers wheel's files, re-packed (1.9 MB instead of the wheel's
#                     6.4 MB: the 64 MiB a call may carry is tight); unpacked into /tmp/site there
#   .gl/              libvulkan1 and glvnd debs (device README: Vulkan for Dawn)
# Usage: bash tools/gpu/prepare.sh   (re-run after changing tools/gpu or workers/runtime)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
WEBGPU_VERSION=0.6.2
DIFFUSERS_VERSION=0.42.1

exclude=$(git rev-parse --git-path info/exclude)
for d in /.gpu/ /.gl/; do
  grep -qxF "$d" "$exclude" 2>/dev/null || echo "$d" >>"$exclude"
done
mkdir -p .gpu .gl

# --- Node: the binary running here (Node 20, x86-64); debug symbols stripped (exported symbols stay).
node_bin=${NODE_BIN:-$(command -v node)}
case "$("$node_bin" -p 'process.platform + "-" + process.arch')" in
  linux-x64) ;;
  *) echo "prepare: $node_bin is not a linux-x64 Node; set NODE_BIN to one" >&2; exit 1 ;;
esac
if [ ! -f .gpu/node.xz ] || [ "$node_bin" -nt .gpu/node.xz ]; then
  tmp=$(mktemp)
  cp "$node_bin" "$tmp"
  strip -s "$tmp" 2>/dev/null || true
  xz -9 -T0 -c "$tmp" >.gpu/node.xz
  rm -f "$tmp"
fi

# --- the `webgpu` package (Dawn): installed outside the repo so node_modules stays untouched.
deps=${KWEB_GPU_DEPS:-/tmp/kweb-gpu-deps}
if [ ! -f "$deps/node_modules/webgpu/dist/linux-x64/dawn.node" ]; then
  mkdir -p "$deps"
  [ -f "$deps/package.json" ] || echo '{"private":true}' >"$deps/package.json"
  npm install --prefix "$deps" --no-save --no-audit --no-fund --ignore-scripts "webgpu@$WEBGPU_VERSION" >/dev/null
fi

# --- the app: bundle + minimal node_modules.
app=$(mktemp -d)
trap 'rm -rf "$app"' EXIT
node_modules/.bin/esbuild tools/gpu/webgpu-bench.ts --bundle --platform=node --format=esm --target=node20 \
  --external:onnxruntime-web --external:webgpu --log-level=warning --outfile="$app/webgpu-bench.mjs"
ort=node_modules/onnxruntime-web
mkdir -p "$app/node_modules/onnxruntime-web/dist" "$app/node_modules/webgpu/dist/linux-x64"
cp "$ort/package.json" "$app/node_modules/onnxruntime-web/"
# 'onnxruntime-web/webgpu' resolves to dist/ort.webgpu.bundle.min.mjs (native EP, asyncify glue and wasm beside it),
# 'onnxruntime-web/all' to dist/ort.all.bundle.min.mjs (JSEP glue and wasm). Node imports the .mjs and wasm beside each.
cp "$ort/dist/ort.webgpu.bundle.min.mjs" "$ort/dist/ort-wasm-simd-threaded.asyncify.mjs" "$ort/dist/ort-wasm-simd-threaded.asyncify.wasm" \
  "$ort/dist/ort.all.bundle.min.mjs" "$ort/dist/ort-wasm-simd-threaded.jsep.mjs" "$ort/dist/ort-wasm-simd-threaded.jsep.wasm" \
  "$app/node_modules/onnxruntime-web/dist/"
wg=$deps/node_modules/webgpu
cp "$wg/package.json" "$wg/index.js" "$app/node_modules/webgpu/"
cp "$wg/dist/linux-x64/dawn.node" "$app/node_modules/webgpu/dist/linux-x64/"
strip -s "$app/node_modules/webgpu/dist/linux-x64/dawn.node" 2>/dev/null || true
# The tiny bundle's manifest.json and tokenizer/ (the exporter's CLIP tokenizer, scheduler configs and the like),
# for the end-to-end run's bundle assembled from the exports (webgpu-bench e2e --reference).
mkdir -p "$app/reference"
cp -r public/models/tiny-kandinsky-2-2/manifest.json public/models/tiny-kandinsky-2-2/tokenizer "$app/reference/"
tar -C "$app" -cf - . | xz -9 -T0 >.gpu/app.tar.xz
cp tools/gpu/run-on-device.sh .gpu/run-on-device.sh

# --- diffusers for the GPU image (a pure-Python wheel: its files are what pip would install).
if [ ! -f .gpu/diffusers.tar.xz ]; then
  if ! ls "$deps"/whl/diffusers-"$DIFFUSERS_VERSION"-*.whl >/dev/null 2>&1; then
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux2014_x86_64 -d "$deps/whl" "diffusers==$DIFFUSERS_VERSION"
  fi
  site=$(mktemp -d)
  (cd "$site" && unzip -q "$deps"/whl/diffusers-"$DIFFUSERS_VERSION"-*.whl && tar -cf - . | xz -9 -T0 >"$root/.gpu/diffusers.tar.xz")
  rm -rf "$site"
fi

# --- Vulkan loader and glvnd (the NVIDIA ICD needs libGLdispatch), per the device README.
if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update >/dev/null
  # shellcheck disable=SC2086
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
fi

# --- what travels: the working tree (tracked + untracked, not ignored) plus the carried folders.
# (files moved aside are listed by git but absent: stat skips them; xargs may split the list, so sum every size)
tree=$({ git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null || true; } | awk '{t += $1} END {print t + 0}')
carried=$(du -cb .gpu .gl | tail -1 | cut -f1)
limit=$((64 * 1024 * 1024))
du -sh .gpu/* .gl
echo "working tree $((tree / 1048576)) MiB + carried $((carried / 1048576)) MiB = $(((tree + carried) / 1048576)) MiB of 64 MiB"
if [ $((tree + carried)) -gt $((limit - 2 * 1048576)) ]; then
  echo "prepare: over (or within 2 MiB of) the 64 MiB the device call may carry: move what the call does not need" >&2
  echo "  aside first (bash tools/gpu/aside.sh out; afterwards: bash tools/gpu/aside.sh back)" >&2
  exit 1
fi
echo "ok: run 'bash tools/gpu/run-on-device.sh' with carry [\".gpu\", \".gl\"]"
