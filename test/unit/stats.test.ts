// Bootstrap intervals and paired tests on inputs whose answers are known.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapMean, pairedTest, seededRandom, signTest } from '../../src/core/eval/stats';

const close = (a: number | null, b: number, tol: number, what: string) => assert.ok(a !== null && Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('the sign test is the exact binomial tail', () => {
  // 9 wins, 1 loss: 2 × (C(10,0) + C(10,1)) / 2^10.
  close(signTest(9, 1), (2 * 11) / 1024, 1e-15, '9 against 1');
  assert.equal(signTest(5, 5), 1);
  assert.equal(signTest(0, 0), null);
  close(signTest(3, 0), 0.25, 1e-15, '3 against 0');
  // Large n does not overflow: 600 against 400 is far beyond chance (z ≈ 6.3).
  const p = signTest(600, 400) as number;
  assert.ok(p > 0 && p < 1e-9, String(p));
});

test('a constant sample has a zero-width interval; one value has none', () => {
  assert.deepEqual(bootstrapMean([0.5, 0.5, 0.5, 0.5]), { n: 4, mean: 0.5, low: 0.5, high: 0.5 });
  assert.deepEqual(bootstrapMean([0.7]), { n: 1, mean: 0.7, low: null, high: null });
  assert.deepEqual(bootstrapMean([]), { n: 0, mean: null, low: null, high: null });
});

test('the interval of a share matches the normal approximation and is the same on every call', () => {
  // 400 items, 300 successes: mean 0.75, standard error sqrt(0.75 × 0.25 / 400) = 0.02165, 95 % ≈ ±0.0424.
  const values = Array.from({ length: 400 }, (_, i) => (i % 4 === 0 ? 0 : 1));
  const ci = bootstrapMean(values);
  close(ci.mean, 0.75, 1e-12, 'mean');
  close(ci.low, 0.75 - 0.0424, 0.008, 'low');
  close(ci.high, 0.75 + 0.0424, 0.008, 'high');
  assert.deepEqual(bootstrapMean(values), ci);
  const random = seededRandom(11);
  const continuous = Array.from({ length: 100 }, () => random());
  assert.deepEqual(bootstrapMean(continuous), bootstrapMean(continuous));
  assert.notDeepEqual(bootstrapMean(continuous, { seed: 7 }), bootstrapMean(continuous));
});

test('the paired test: a clear, consistent gain is significant; identical runs are not', () => {
  const random = seededRandom(3);
  const theirs = Array.from({ length: 50 }, () => random());
  const ours = theirs.map((v, i) => v + 0.05 + (i % 5 === 0 ? -0.02 : 0.01));
  const better = pairedTest(ours, theirs);
  assert.equal(better.wins, 50);
  assert.equal(better.losses, 0);
  close(better.signP, 2 / 2 ** 50, 1e-25, 'sign test');
  assert.equal(better.bootstrapP, 0);
  close(better.meanDelta, 0.05 + (10 * -0.02 + 40 * 0.01) / 50, 1e-12, 'mean delta');
  assert.ok((better.low as number) > 0);

  const same = pairedTest(theirs, theirs);
  assert.equal(same.ties, 50);
  assert.equal(same.signP, null);
  assert.equal(same.bootstrapP, 1);
  assert.equal(same.meanDelta, 0);

  // Symmetric noise around no difference: nowhere near significant.
  const noise = theirs.map((v, i) => v + (i % 2 ? 0.1 : -0.1));
  const null_ = pairedTest(noise, theirs);
  assert.equal(null_.signP, 1);
  assert.ok((null_.bootstrapP as number) > 0.5, String(null_.bootstrapP));
});

test('a margin turns small differences into ties', () => {
  const t = pairedTest([0.5, 0.502, 0.6], [0.5, 0.5, 0.5], { margin: 0.005 });
  assert.deepEqual([t.wins, t.losses, t.ties], [1, 0, 2]);
});
