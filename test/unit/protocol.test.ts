// The panel protocol: messages survive the JSON boundary, malformed ones are refused, requests settle or time out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RequestTimeoutError,
  RequestTracker,
  defaultWebviewState,
  parseWebviewMessage,
  parseWebviewState,
  type PanelRequest,
  type WebviewMessage,
} from '../../src/shared/protocol';

const everyRequest: PanelRequest[] = [
  { kind: 'openCode' },
  { kind: 'openCode', attempt: 2 },
  { kind: 'rerender' },
  { kind: 'saveCode' },
  { kind: 'refine' },
  { kind: 'copyCaption' },
  { kind: 'insertCaption', target: 'altText' },
  { kind: 'insertCaption', target: 'notebook' },
  { kind: 'showAttempt', attempt: 0 },
  { kind: 'action', action: 'configureEndpoint' },
  { kind: 'action', action: 'showLog' },
];

test('every webview message round-trips through JSON (postMessage) unchanged', () => {
  const messages: WebviewMessage[] = [
    { type: 'ready' },
    { type: 'cancel' },
    ...everyRequest.map((request, i) => ({ type: 'request' as const, id: i + 1, request })),
  ];
  for (const message of messages) {
    assert.deepEqual(parseWebviewMessage(JSON.parse(JSON.stringify(message))), message);
  }
});

test('malformed or unknown messages are refused', () => {
  for (const bad of [
    null,
    'ready',
    [],
    { type: 'nope' },
    { type: 'request', id: 'x', request: { kind: 'rerender' } },
    { type: 'request', id: 1.5, request: { kind: 'rerender' } },
    { type: 'request', id: 1, request: { kind: 'deleteEverything' } },
    { type: 'request', id: 1, request: { kind: 'showAttempt' } },
    { type: 'request', id: 1, request: { kind: 'showAttempt', attempt: -1 } },
    { type: 'request', id: 1, request: { kind: 'insertCaption', target: 'elsewhere' } },
    { type: 'request', id: 1, request: { kind: 'action', action: 'runShell' } },
    { type: 'request', id: 1, request: { kind: 'toString' } },
  ]) {
    assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad));
  }
});

test('extra fields are dropped, not passed through', () => {
  const parsed = parseWebviewMessage({ type: 'request', id: 3, request: { kind: 'rerender', code: 'import os' }, extra: 1 });
  assert.deepEqual(parsed, { type: 'request', id: 3, request: { kind: 'rerender' } });
});

test('webview state: restored fields kept, bad ones replaced by defaults, no image means no state', () => {
  const state = { ...defaultWebviewState('/a/b.png'), mode: 'onion', zoom: 2, opacity: 0.3, swipe: 0.8 };
  assert.deepEqual(parseWebviewState(JSON.parse(JSON.stringify(state))), state);
  const fixed = parseWebviewState({ imagePath: '/a/b.png', mode: 'sideways', zoom: Number.NaN, opacity: 7, swipe: 0.25 });
  assert.deepEqual(fixed, { ...defaultWebviewState('/a/b.png'), swipe: 0.25 });
  assert.equal(parseWebviewState({ mode: 'side' }), undefined);
  assert.equal(parseWebviewState(undefined), undefined);
});

test('requests get increasing ids and settle with their own response', async () => {
  const sent: WebviewMessage[] = [];
  const tracker = new RequestTracker((m) => sent.push(m), 5_000);
  const first = tracker.send({ kind: 'rerender' });
  const second = tracker.send({ kind: 'saveCode' });
  assert.equal(sent.length, 2);
  const [a, b] = sent as Extract<WebviewMessage, { type: 'request' }>[];
  assert.ok(a && b && a.id !== b.id);
  assert.equal(tracker.settle({ type: 'response', id: b.id, ok: false, error: 'no code yet' }), true);
  assert.equal(tracker.settle({ type: 'response', id: a.id, ok: true, message: 'done' }), true);
  assert.equal(await first, 'done');
  await assert.rejects(second, /no code yet/);
  assert.equal(tracker.settle({ type: 'response', id: a.id, ok: true }), false, 'a late duplicate is ignored');
  assert.equal(tracker.size, 0);
});

test('a request without an answer rejects with a timeout error, and a late answer is ignored', async () => {
  const sent: WebviewMessage[] = [];
  const tracker = new RequestTracker((m) => sent.push(m), 20);
  await assert.rejects(tracker.send({ kind: 'refine' }), RequestTimeoutError);
  const id = (sent[0] as Extract<WebviewMessage, { type: 'request' }>).id;
  assert.equal(tracker.settle({ type: 'response', id, ok: true }), false);
});

test('an accepted request has no deadline: a long Refine is answered, not timed out', async () => {
  const sent: WebviewMessage[] = [];
  const tracker = new RequestTracker((m) => sent.push(m), 20);
  const pending = tracker.send({ kind: 'refine' });
  const id = (sent[0] as Extract<WebviewMessage, { type: 'request' }>).id;
  assert.equal(tracker.accepted(id), true);
  // Well past the 20 ms within which a request must be taken.
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal(tracker.settle({ type: 'response', id, ok: true, message: 'Best fidelity 0.990.' }), true);
  assert.equal(await pending, 'Best fidelity 0.990.');
});

test('dispose rejects what is still pending; a failing post rejects at once', async () => {
  const tracker = new RequestTracker(() => {}, 60_000);
  const pending = tracker.send({ kind: 'copyCaption' });
  tracker.dispose();
  await assert.rejects(pending, /closed/);
  const broken = new RequestTracker(() => {
    throw new Error('webview is disposed');
  });
  await assert.rejects(broken.send({ kind: 'rerender' }), /disposed/);
  assert.equal(broken.size, 0);
});
