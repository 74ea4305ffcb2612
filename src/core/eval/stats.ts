// Confidence intervals and paired significance tests for eval figures: seeded, so a run's table reproduces exactly.

/** Resamples of every bootstrap (percentile intervals at 95 % are stable to about ±0.005 at this count). */
export const bootstrapResamples = 2000;
/** The fixed seed of every bootstrap: the same data give the same interval on every machine. */
export const bootstrapSeed = 20260101;

export interface MeanInterval {
  n: number;
  mean: number | null;
  /** Percentile bootstrap interval of the mean; null with fewer than two values. */
  low: number | null;
  high: number | null;
}

/** mulberry32: a small, fast, seedable generator; the same seed gives the same stream in every JavaScript engine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mean(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total / values.length;
}

/** Linear interpolation between order statistics (numpy's default). */
function quantileSorted(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function resampledMeans(values: readonly number[], resamples: number, seed: number): number[] {
  const random = seededRandom(seed);
  const n = values.length;
  const means = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    let total = 0;
    for (let k = 0; k < n; k++) total += values[Math.floor(random() * n)]!;
    means[r] = total / n;
  }
  return means.sort((a, b) => a - b);
}

/** The mean with its percentile bootstrap interval (`confidence` 0.95 by default). */
export function bootstrapMean(values: readonly number[], options: { confidence?: number; resamples?: number; seed?: number } = {}): MeanInterval {
  const n = values.length;
  if (!n) return { n, mean: null, low: null, high: null };
  const m = mean(values);
  if (n < 2) return { n, mean: m, low: null, high: null };
  const alpha = 1 - (options.confidence ?? 0.95);
  const means = resampledMeans(values, options.resamples ?? bootstrapResamples, options.seed ?? bootstrapSeed);
  return { n, mean: m, low: quantileSorted(means, alpha / 2), high: quantileSorted(means, 1 - alpha / 2) };
}

export interface PairedTest {
  /** Pairs compared. */
  n: number;
  /** Mean of ours − theirs. */
  meanDelta: number | null;
  /** Percentile bootstrap interval of the mean difference. */
  low: number | null;
  high: number | null;
  /** Two-sided paired bootstrap p-value: twice the share of resampled mean differences on the far side of 0. */
  bootstrapP: number | null;
  wins: number;
  losses: number;
  ties: number;
  /** Exact two-sided sign test on wins against losses (ties left out). */
  signP: number | null;
}

/** Ours against theirs item by item: a paired bootstrap of the mean difference and a sign test on wins and losses. */
export function pairedTest(ours: readonly number[], theirs: readonly number[], options: { margin?: number; resamples?: number; seed?: number } = {}): PairedTest {
  if (ours.length !== theirs.length) throw new Error('pairedTest needs two lists of the same length');
  const deltas = ours.map((v, i) => v - theirs[i]!);
  const margin = options.margin ?? 0;
  const wins = deltas.filter((d) => d > margin).length;
  const losses = deltas.filter((d) => d < -margin).length;
  const out: PairedTest = { n: deltas.length, meanDelta: null, low: null, high: null, bootstrapP: null, wins, losses, ties: deltas.length - wins - losses, signP: signTest(wins, losses) };
  if (!deltas.length) return out;
  out.meanDelta = mean(deltas);
  if (deltas.length < 2) return out;
  const means = resampledMeans(deltas, options.resamples ?? bootstrapResamples, options.seed ?? bootstrapSeed);
  out.low = quantileSorted(means, 0.025);
  out.high = quantileSorted(means, 0.975);
  const atOrBelow = means.filter((m) => m <= 0).length / means.length;
  const atOrAbove = means.filter((m) => m >= 0).length / means.length;
  out.bootstrapP = Math.min(1, 2 * Math.min(atOrBelow, atOrAbove));
  return out;
}

/** Exact two-sided sign test: the probability of a split at least this uneven when wins and losses are equally likely. */
export function signTest(wins: number, losses: number): number | null {
  const n = wins + losses;
  if (n === 0) return null;
  const k = Math.min(wins, losses);
  // Sum of C(n, i) / 2^n for i ≤ k, in logs so that large n does not overflow.
  let logC = 0;
  let tail = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    tail += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, 2 * tail);
}
