/** Inpainting mask preparation (SPEC §3; diffusers KandinskyV22InpaintPipeline.prepare_mask). */

/**
 * Turn a pixel mask (1 = repaint, any float; binarised at 0.5) of size W×H into the keep-mask
 * on the latent grid (1 = keep, 0 = repaint): invert, resize by nearest neighbour
 * (PyTorch F.interpolate 'nearest': src = floor(dst * in / out)), then grow the repaint
 * region by one cell: each 0 cell also zeroes its neighbours above, left, above-left,
 * below, right and below-right — the reference's six, not all eight.
 */
export function prepareKeepMask(mask: Float32Array, width: number, height: number, latentW: number, latentH: number): Float32Array {
  if (mask.length !== width * height) {
    throw new RangeError(`mask has ${mask.length} values, expected ${width}×${height} = ${width * height}`);
  }
  const keep = new Float32Array(latentW * latentH);
  for (let i = 0; i < latentH; i++) {
    const sy = Math.min(height - 1, Math.floor((i * height) / latentH));
    for (let j = 0; j < latentW; j++) {
      const sx = Math.min(width - 1, Math.floor((j * width) / latentW));
      keep[i * latentW + j] = mask[sy * width + sx]! >= 0.5 ? 0 : 1;
    }
  }
  const grown = keep.slice();
  for (let i = 0; i < latentH; i++) {
    for (let j = 0; j < latentW; j++) {
      if (keep[i * latentW + j] === 1) continue;
      const up = i > 0, left = j > 0, down = i < latentH - 1, right = j < latentW - 1;
      if (up) grown[(i - 1) * latentW + j] = 0;
      if (left) grown[i * latentW + j - 1] = 0;
      if (up && left) grown[(i - 1) * latentW + j - 1] = 0;
      if (down) grown[(i + 1) * latentW + j] = 0;
      if (right) grown[i * latentW + j + 1] = 0;
      if (down && right) grown[(i + 1) * latentW + j + 1] = 0;
    }
  }
  return grown;
}
