/** Transfer speed over a sliding window, and the ETA it implies. */

/** Window over which speed is averaged: long enough to smooth bursts, short enough to follow a stall. */
export const RATE_WINDOW_MS = 3000;

/** Speed meter: feed it byte counts with timestamps; it answers bytes per second over the last window. */
export class RateMeter {
  private readonly samples: { t: number; n: number }[] = [];
  private started: number | null = null;

  constructor(private readonly windowMs: number = RATE_WINDOW_MS) {}

  /** Record `n` bytes received at time `t` (ms). */
  add(n: number, t: number): void {
    if (this.started === null) this.started = t;
    this.samples.push({ t, n });
    this.trim(t);
  }

  /** Bytes per second at time `t`; 0 before any data or after a stall longer than the window. */
  speed(t: number): number {
    this.trim(t);
    if (this.started === null || this.samples.length === 0) return 0;
    const bytes = this.samples.reduce((s, x) => s + x.n, 0);
    // Early on, divide by the time since the first byte rather than the whole window.
    const span = Math.max(Math.min(this.windowMs, t - this.started), 250);
    return (bytes * 1000) / span;
  }

  private trim(t: number): void {
    while (this.samples.length > 0 && this.samples[0]!.t < t - this.windowMs) this.samples.shift();
  }
}

/** Seconds left for `remaining` bytes at `speed` bytes/s; null when unknown (no speed, or no total). */
export function etaSeconds(remaining: number | null, speed: number): number | null {
  if (remaining === null || !Number.isFinite(remaining)) return null;
  if (remaining <= 0) return 0;
  if (speed <= 0) return null;
  return remaining / speed;
}
