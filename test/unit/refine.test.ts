// Repair, refine and best-of-K rounds against a scripted model, with real renders and figures.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatContent, ModelClient, Renderer } from '../../src/core/types';
import { reconstruct } from '../../src/core/reconstruct/pipeline';
import { failingLines } from '../../src/core/reconstruct/refine';
import { isAbort } from '../../src/core/errors';
import type { RecordedRequest, ScriptedServer, Step } from '../support/scriptedServer';
import { type ModelBench, geometryFigure, replyWith, startModelBench } from '../support/modelBench';

const figure = geometryFigure;
const exact = figure(0);
const shifted = figure(-0.9);
const farOff = figure(-2.0, 'red').replace("'A'", "'Z'").replace('[1.6, 2.5]', '[1.6, 0.9]');
// Fails on line 4 with a NameError.
const broken = exact.replace("ax.add_patch(Polygon(", "ax.add_patch(Polygn(");

const reply = replyWith;

function userParts(request: RecordedRequest): ChatContent[] {
  const body = request.body as { messages: { role: string; content: string | ChatContent[] }[] };
  const user = body.messages.find((m) => m.role === 'user');
  assert.ok(user && Array.isArray(user.content), 'the request has a user message with parts');
  return user.content;
}
const textOf = (parts: ChatContent[]) => parts.map((p) => (p.type === 'text' ? p.text : '')).join('\n');
const imagesOf = (parts: ChatContent[]) => parts.flatMap((p) => (p.type === 'image_url' ? [p.image_url.url] : []));

describe('refinement rounds', () => {
  let bench: ModelBench;
  let renderer: Renderer;
  let server: ScriptedServer;
  let model: ModelClient;
  let original: string;
  const workFolder = (name: string): string => bench.folder(name);

  before(async () => {
    bench = await startModelBench('refigure-refine');
    ({ renderer, server, model, original } = bench);
  });
  after(() => bench.close());

  async function run(steps: Step[], options: { refine: number; target?: number; candidates?: number; signal?: AbortSignal }, workName: string) {
    server.push(...steps);
    const before = server.chatRequests().length;
    const workDir = workFolder(workName);
    const result = await reconstruct({ imagePath: original, renderer, workDir, model, preset: 'generic', caption: false, ...options });
    return { result, requests: server.chatRequests().slice(before) };
  }

  test('a failing first answer is repaired, a shifted render refined to the exact one, and the loop stops at the target', async () => {
    const { result, requests } = await run([reply(broken), reply(shifted), reply(exact)], { refine: 5, target: 0.99 }, 'repair');
    assert.deepEqual(result.attempts.map((a) => a.kind), ['initial', 'repair', 'refine']);
    assert.equal(requests.length, 3, 'no round after the target was reached');
    const [first, repaired, refined] = result.attempts;
    assert.equal(first?.render.ok, false);
    assert.equal(first?.render.error?.line, 4);
    assert.ok(repaired?.render.ok && refined?.render.ok);
    assert.ok((refined?.metrics?.fidelity ?? 0) >= 0.99, `exact redraw scores ${refined?.metrics?.fidelity}`);
    assert.ok((refined?.metrics?.fidelity ?? 0) > (repaired?.metrics?.fidelity ?? 1), 'refining improved on the shifted render');
    assert.equal(result.code, exact);
    assert.deepEqual(result.attempts.map((a) => a.best), [false, false, true]);
    assert.equal(result.metrics?.fidelity, refined?.metrics?.fidelity);
    assert.deepEqual(result.attempts.map((a) => a.usage?.completionTokens), [50, 50, 50]);
    assert.deepEqual(result.notes.map((n) => n.code), ['refine-target']);

    // The repair request carries the failing code, the error, the traceback and the marked line.
    const repairText = textOf(userParts(requests[1] as RecordedRequest));
    assert.match(repairText, /Polygn/);
    assert.match(repairText, /NameError/);
    assert.match(repairText, />> 4 \| ax\.add_patch\(Polygn/);
    assert.equal(imagesOf(userParts(requests[1] as RecordedRequest)).length, 1);

    // The refine request: original, render, diff (as PNG data URLs, in that order), then code and figures.
    const refineParts = userParts(requests[2] as RecordedRequest);
    const images = imagesOf(refineParts);
    assert.equal(images.length, 3);
    for (const url of images) assert.match(url, /^data:image\/png;base64,iVBORw0KGgo/);
    assert.equal(images[0], imagesOf(userParts(requests[0] as RecordedRequest))[0], 'the original comes first');
    const refineText = textOf(refineParts);
    assert.ok(refineText.includes(shifted.trim()), 'the current (shifted) code is sent');
    assert.match(refineText, new RegExp(`fidelity ${(repaired?.metrics?.fidelity ?? 0).toFixed(3)}`));
    assert.match(refineText, /keep what already matches/);
    const labels = refineParts.filter((p) => p.type === 'text').map((p) => (p.type === 'text' ? p.text : ''));
    assert.ok(labels.findIndex((t) => /original/i.test(t)) < labels.findIndex((t) => /render of your current code/.test(t)));
  });

  test('the best attempt is kept, not the last, and a round that does not improve ends the loop', async () => {
    const { result, requests } = await run([reply(shifted), reply(farOff)], { refine: 4, target: 0.999 }, 'noimprove');
    assert.equal(requests.length, 2, 'stopped after the round that made things worse');
    assert.deepEqual(result.attempts.map((a) => a.kind), ['initial', 'refine']);
    const [first, second] = result.attempts;
    assert.ok((second?.metrics?.fidelity ?? 1) < (first?.metrics?.fidelity ?? 0), 'the far-off answer scores lower');
    assert.equal(result.code, shifted);
    assert.equal(first?.best, true);
    assert.equal(second?.best, false);
    assert.deepEqual(result.notes.map((n) => n.code), ['refine-stalled']);
    assert.equal(result.notes[0]?.attempt, 0, 'the note names the attempt that is best');
    assert.equal(result.best, 0);
  });

  test('a first answer already at the target is not refined', async () => {
    const { result, requests } = await run([reply(exact)], { refine: 3, target: 0.95 }, 'attarget');
    assert.equal(requests.length, 1);
    assert.equal(result.attempts.length, 1);
  });

  test('K candidates are scored side by side and the best one is refined', async () => {
    const { result, requests } = await run([reply([farOff, shifted, broken]), reply(exact)], { refine: 1, candidates: 3, target: 0.99 }, 'candidates');
    assert.equal((requests[0]?.body as { n?: number }).n, 3);
    assert.deepEqual(result.attempts.map((a) => a.kind), ['candidate', 'candidate', 'candidate', 'refine']);
    const [far, mid, bad] = result.attempts;
    assert.ok((mid?.metrics?.fidelity ?? 0) > (far?.metrics?.fidelity ?? 1));
    assert.equal(bad?.render.ok, false);
    const refineText = textOf(userParts(requests[1] as RecordedRequest));
    assert.ok(refineText.includes(shifted.trim()), 'the best candidate is the one refined');
    assert.ok(!refineText.includes(farOff.trim()));
    assert.equal(result.code, exact);
  });

  test('cancelling during a refine round rejects as cancelled and asks nothing more', async () => {
    const controller = new AbortController();
    server.push(reply(shifted), { endlessSlow: true, intervalMs: 50 });
    const before = server.chatRequests().length;
    const workDir = workFolder('cancel');
    const pending = reconstruct({
      imagePath: original,
      renderer,
      workDir,
      model,
      preset: 'generic',
      caption: false,
      refine: 3,
      target: 0.999,
      signal: controller.signal,
      onProgress: (event) => {
        if (event.kind === 'tokens' && server.chatRequests().length - before === 2) controller.abort();
      },
    });
    await assert.rejects(pending, (error) => isAbort(error));
    assert.equal(server.chatRequests().length - before, 2);
  });

  test('failingLines marks the line and numbers its neighbours', () => {
    const excerpt = failingLines('a\nb\nc\nd\ne\nf', 4);
    assert.equal(excerpt, '   2 | b\n   3 | c\n>> 4 | d\n   5 | e\n   6 | f');
    assert.equal(failingLines('a', 9), undefined);
  });
});
