// The reconstruction session: history that lasts, actions on the attempt shown, refine from an edit, notes that agree
// with the best, cancel and resume — against a scripted model, with real renders and figures.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { ChatContent, ModelClient, Renderer } from '../../src/core/types';
import { ReconstructionSession, codeOf } from '../../src/core/reconstruct/session';
import { errorCode, isAbort } from '../../src/core/errors';
import { outputPaths, writeOutputs } from '../../src/core/reconstruct/outputs';
import { parseResult, readResultFile } from '../../src/core/reconstruct/resultFile';
import type { RecordedRequest, ScriptedServer, Step } from '../support/scriptedServer';
import { type ModelBench, geometryFigure, replyWith, startModelBench } from '../support/modelBench';

const exact = geometryFigure(0);
const shifted = geometryFigure(-0.9);
const nearlyShifted = geometryFigure(-0.88);
const broken = exact.replace('ax.add_patch(Polygon(', 'ax.add_patch(Polygn(');
const reply = replyWith;
const captionStep: Step = { reply: 'Caption: A triangle and a circle.\nAlt text: Triangle and circle.' };

function userText(request: RecordedRequest | undefined): string {
  const body = request?.body as { messages: { role: string; content: string | ChatContent[] }[] };
  const user = body.messages.find((m) => m.role === 'user');
  assert.ok(user && Array.isArray(user.content));
  return user.content.map((p) => (p.type === 'text' ? p.text : '')).join('\n');
}

describe('reconstruction session', () => {
  let bench: ModelBench;
  let renderer: Renderer;
  let server: ScriptedServer;
  let model: ModelClient;
  let original: string;
  const folder = (name: string): string => bench.folder(name);
  const open = (name: string) => ReconstructionSession.open(original, { renderer, workDir: folder(name) });
  const newRequests = async <T>(work: () => Promise<T>): Promise<{ value: T; requests: RecordedRequest[] }> => {
    const before = server.chatRequests().length;
    const value = await work();
    return { value, requests: server.chatRequests().slice(before) };
  };

  before(async () => {
    bench = await startModelBench('refigure-session');
    ({ renderer, server, model, original } = bench);
  });
  after(() => bench.close());

  test('reconstructing again appends to the history; the best of the history is shown', async () => {
    const session = await open('again');
    const offline = await session.reconstruct({});
    assert.equal(offline.attempts.length, 1);
    assert.deepEqual(offline.notes.map((n) => n.code), ['offline']);
    assert.equal(offline.captionProvider, 'offline');

    server.push(reply(shifted), captionStep);
    const second = await session.reconstruct({ model, preset: 'generic' });
    assert.deepEqual(second.attempts.map((a) => [a.index, a.author]), [
      [0, 'offline-trace'],
      [1, 'scripted-model'],
    ]);
    assert.equal(second.shown, second.best);
    assert.equal(second.attempts.filter((a) => a.best).length, 1);
    assert.equal(second.attempts[second.best]?.best, true);
    assert.equal(second.provider, 'model');
    assert.equal(second.captionProvider, 'model');
    assert.equal(second.captionAttempt, second.best);
    // The note about an earlier best is there exactly when the best is not one of this run's attempts.
    assert.equal(second.notes.some((n) => n.code === 'earlier-best'), second.best === 0);
  });

  test('an edit is shown, Refine refines the edit, and the note agrees with the best', async () => {
    const session = await open('edit');
    server.push(reply(broken));
    const first = await session.reconstruct({ model, preset: 'generic', caption: false });
    assert.equal(first.render.ok, false);

    const edit = await session.acceptEdit(shifted);
    assert.equal(edit.kind, 'edit');
    assert.equal(edit.from, 0);
    assert.equal(edit.author, 'user');
    const edited = session.result();
    assert.equal(edited.shown, 1);
    assert.equal(edited.code, shifted, 'the result stands for the edit shown');

    server.push(reply(nearlyShifted));
    const { value: refined, requests } = await newRequests(() => session.refine({ model, caption: false }));
    assert.equal(requests.length, 1);
    assert.ok(userText(requests[0]).includes(shifted.trim()), 'the refine request carries the user\'s edit');
    assert.deepEqual(refined.attempts.map((a) => a.kind), ['initial', 'edit', 'refine']);
    assert.equal(refined.attempts[2]?.from, 1);
    assert.equal(refined.shown, refined.best);
    for (const note of refined.notes) {
      if (note.code === 'refine-stalled') assert.equal(note.attempt, refined.best, `the note names the best: ${note.message}`);
    }
    assert.match(refined.notes.find((n) => n.code === 'refine-stalled')?.message ?? `Attempt ${refined.best + 1} is the best`, new RegExp(`Attempt ${refined.best + 1} is the best`));
  });

  test("the original's text is read while the model answers, once for the whole reconstruct", async () => {
    const events: string[] = [];
    const session = await ReconstructionSession.open(original, {
      renderer,
      workDir: folder('early-text'),
      readText: async (path) => {
        events.push(`read ${path === original ? 'original' : 'render'}`);
        return [];
      },
    });
    server.push(reply(exact), captionStep);
    await session.reconstruct({
      model,
      preset: 'generic',
      onProgress: (event) => {
        if (event.kind === 'stage' && (event.stage === 'model' || event.stage === 'extract')) events.push(event.stage);
      },
    });
    assert.deepEqual(events.filter((e) => e !== 'read render'), ['read original', 'model', 'extract']);
  });

  test('select changes what the result stands for; recaption describes the attempt shown', async () => {
    const session = await open('select');
    server.push(reply(shifted), captionStep);
    await session.reconstruct({ model, preset: 'generic' });
    await session.acceptEdit(exact);
    session.select(0);
    assert.equal(session.result().code, shifted);
    assert.equal(session.result().render.png, session.attempts[0]?.render.png);
    session.select(1);
    server.push(captionStep);
    const { requests } = await newRequests(() => session.recaption({ model }));
    assert.ok(userText(requests[0]).includes(exact.trim()), 'the caption request carries the shown code');
    assert.equal(session.result().captionAttempt, 1);
    assert.throws(() => session.select(7), (error) => errorCode(error) === 'no-attempt');
  });

  test('an attempt the user chooses while a reconstruct or a refine runs stays shown when it ends', async () => {
    const session = await open('choice');
    server.push(reply(shifted));
    await session.reconstruct({ model, preset: 'generic', caption: false });
    const chooseFirstOnce = () => {
      let chosen = false;
      return (event: { kind: string }) => {
        if (event.kind !== 'tokens' || chosen) return;
        chosen = true;
        session.select(0);
      };
    };
    server.push(reply(exact));
    const again = await session.reconstruct({ model, preset: 'generic', caption: false, onProgress: chooseFirstOnce() });
    assert.equal(again.best, 1, 'the new attempt is the best');
    assert.equal(again.shown, 0, 'the attempt chosen during the run is still shown');
    assert.equal(again.code, shifted);

    server.push(reply(exact));
    session.select(1);
    const refined = await session.refine({ model, caption: false, onProgress: chooseFirstOnce() });
    assert.equal(refined.attempts.length, 3);
    assert.equal(refined.shown, 0);
    // Without a choice during the run, the end of a refine shows the best.
    server.push(reply(exact));
    assert.equal((await session.refine({ model, caption: false, from: 1 })).shown, session.best?.index);
  });

  test('cancelling a refine rejects as cancelled and keeps the attempts made', async () => {
    const session = await open('cancel');
    server.push(reply(shifted));
    await session.reconstruct({ model, preset: 'generic', caption: false });
    server.push({ endlessSlow: true, intervalMs: 50 });
    const controller = new AbortController();
    const pending = session.refine({
      model,
      signal: controller.signal,
      onProgress: (event) => {
        if (event.kind === 'tokens') controller.abort();
      },
    });
    await assert.rejects(pending, (error) => isAbort(error));
    assert.equal(session.attempts.length, 1);
    assert.equal(session.result().shown, 0);
  });

  test('a written result resumes: refine from an attempt whose render was not kept renders it again and appends', async () => {
    const session = await open('resume-base');
    server.push(reply(shifted));
    await session.reconstruct({ model, preset: 'generic', caption: false });
    await session.acceptEdit(nearlyShifted);
    const outDir = folder('resume-out');
    const written = await writeOutputs(session.result(), outputPaths(original, outDir));
    assert.equal(written.attempts[0]?.render.png, undefined, 'only the shown attempt keeps its files');
    const saved = await readResultFile(written.outputs?.json ?? '');
    assert.equal(saved.attempts.length, 2);

    const resumed = await ReconstructionSession.resume(saved, { renderer, workDir: folder('resume') });
    server.push(reply(exact));
    const { value: result, requests } = await newRequests(() => resumed.refine({ model, from: 0, caption: false }));
    assert.ok(userText(requests[0]).includes(shifted.trim()), 'attempt 1 was refined');
    assert.deepEqual(result.attempts.map((a) => a.kind), ['initial', 'edit', 'refine']);
    assert.ok(result.attempts[0]?.render.png && existsSync(result.attempts[0].render.png), 'attempt 1 was rendered again for the request');
    assert.equal(result.best, 2);
    assert.equal(result.code, exact);
  });

  test('version 1 results load with their attempts; a reply without code carries the code no-code', async () => {
    const v1 = parseResult({
      version: 1,
      image: { path: '/x.png', width: 1, height: 1, format: 'png' },
      provider: 'model',
      model: 'm',
      code: 'a',
      caption: 'c',
      altText: '',
      captionStyle: 'caption',
      render: { ok: true, png: null, diff: null, error: null, seconds: 0, sandbox: 'process' },
      metrics: null,
      attempts: [{ index: 0, kind: 'initial', code: 'a', render: { ok: true, seconds: 0, sandbox: 'process' }, seconds: 0, best: true }],
      timings: {},
      notes: ['old text'],
    });
    assert.equal(v1.version, 2);
    assert.equal(v1.shown, 0);
    assert.deepEqual(v1.notes, []);
    assert.equal(v1.captionProvider, 'model');
    await assert.rejects(codeOf('no code here', {}), (error) => errorCode(error) === 'no-code');
  });
});
