// Drives the real VS Code workbench in Chromium: right-click a figure in the Explorer, Reconstruct Figure, look at the panel.
import * as assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { viewModes, type ViewMode } from '../../src/shared/protocol';
import { repoRoot, scratch, stemFixtures } from '../support/paths';
import { startScriptedServer, type RecordedRequest, type ScriptedServer, type Step } from '../support/scriptedServer';

type Host = typeof import('../host/codeServerHost.mjs');

let resultsDir = join(repoRoot, 'test-results', 'e2e');

/** The host is plain ESM beside the tests, loaded at run time rather than bundled (it finds its tools from its own path). */
async function loadHost(): Promise<Host> {
  const url = pathToFileURL(join(repoRoot, 'test', 'host', 'codeServerHost.mjs')).href;
  return (await import(url)) as Host;
}

function contributedExplorerCommands(): string[] {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    contributes?: { menus?: Record<string, Array<{ command: string }>> };
  };
  return (manifest.contributes?.menus?.['explorer/context'] ?? []).map((item) => item.command);
}

async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** An Explorer row by its exact file or folder name. */
function explorerRow(page: Page, name: string): Locator {
  return page
    .locator('.explorer-folders-view .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(name)}$`) }) });
}

async function showExplorer(page: Page): Promise<void> {
  const view = page.locator('.explorer-folders-view');
  if (await view.isVisible()) return;
  await page.keyboard.press('Control+Shift+E');
  await view.waitFor({ timeout: 30_000 });
}

/** Right-clicks a row and returns the context menu that opens (the web workbench draws its own menus). */
async function openContextMenu(page: Page, row: Locator): Promise<Locator> {
  await row.click({ button: 'right' });
  const menu = page.locator('.context-view .monaco-menu');
  await menu.waitFor({ timeout: 15_000 });
  return menu;
}

/** Opens the row's context menu until it lists `wanted` (or the time is up) and returns the last menu seen. */
async function contextMenuWith(page: Page, row: Locator, wanted: string | undefined, timeoutMs: number): Promise<{ menu: Locator; labels: string[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const menu = await openContextMenu(page, row);
    const labels = await menuLabels(menu);
    if (!wanted || labels.includes(wanted) || Date.now() > deadline) return { menu, labels };
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden' });
    await page.waitForTimeout(1_000);
  }
}

async function menuLabels(menu: Locator): Promise<string[]> {
  return (await menu.locator('.action-label').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
}

test('a figure in the Explorer opens the Refigure panel from its context menu', { timeout: 300_000 }, async (t) => {
  const host = await loadHost();
  assert.ok(readdirSync(stemFixtures).includes(fixture), `the fixture ${fixture} is missing from ${stemFixtures}`);
  const workspace = scratch('refigure-e2e-ws-');
  mkdirSync(join(workspace.dir, 'figures'));
  copyFileSync(join(stemFixtures, fixture), join(workspace.dir, 'figures', fixture));
  copyFileSync(join(stemFixtures, fixture), join(workspace.dir, 'figures', raisingFigure));
  copyFileSync(join(stemFixtures, fixture), join(workspace.dir, 'figures', refusedFigure));
  copyFileSync(join(stemFixtures, fixture), join(workspace.dir, 'figures', blockedPortFigure));
  copyFileSync(join(stemFixtures, fixture), join(workspace.dir, 'figures', unnamedModelFigure));
  // A download cut short: the PNG's first 3,000 bytes.
  writeFileSync(join(workspace.dir, 'figures', corruptFigure), readFileSync(join(stemFixtures, fixture)).subarray(0, 3000));
  writeFileSync(join(workspace.dir, notesFile), `# Notes\n\nThe priced rows:\n\n![](figures/${fixture})\n`);
  writeFileSync(join(workspace.dir, notebookFile), notebookShowing(readFileSync(join(stemFixtures, fixture))));

  const model = await startScriptedServer(scriptedModel);
  const server = await host.startCodeServer({
    settings: { 'refigure.endpoint': model.url, 'refigure.model': 'scripted-model' },
  });
  resultsDir = join(repoRoot, 'test-results', 'e2e', `vscode-${server.version}`);
  let workbench: Awaited<ReturnType<Host['openWorkbench']>> | undefined;
  try {
    workbench = await host.openWorkbench(server, { folder: workspace.dir, extensionDevelopmentPath: repoRoot });
    const { page } = workbench;
    await showExplorer(page);

    const folder = explorerRow(page, 'figures');
    await folder.waitFor({ timeout: 30_000 });
    await folder.click();
    const image = explorerRow(page, fixture);
    await image.waitFor({ timeout: 15_000 });

    const contributed = contributedExplorerCommands().includes('refigure.reconstructFigure');
    // Menu contributions of the development extension arrive once the remote extension host has scanned it.
    const { menu, labels } = await contextMenuWith(page, image, contributed ? 'Reconstruct Figure' : undefined, 45_000);
    await screenshot(page, 'explorer-context-menu');
    // The file's own menu, not some other: it offers to copy the file's path.
    assert.ok(labels.includes('Copy Path'), `unexpected context menu: ${labels.join(' | ')}`);

    if (!contributed) {
      t.todo('package.json does not contribute Reconstruct Figure to explorer/context yet');
      return;
    }
    assert.ok(labels.includes('Reconstruct Figure'), `"Reconstruct Figure" is missing from the menu: ${labels.join(' | ')}`);
    await menu.locator('.action-item', { hasText: 'Reconstruct Figure' }).click();

    const tab = page.locator('.tabs-container .tab', { hasText: `Refigure: ${basename(fixture)}` });
    await tab.waitFor({ timeout: 30_000 });
    const panel = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await panel.locator('#app').waitFor({ timeout: 30_000 });
    // The panel shows the original as soon as it opens; the redraw follows once the model answered and Python rendered.
    await panel.locator('#app img').first().waitFor({ timeout: 30_000 });
    await expectEventually(() => model.chatRequests().length > 0, 60_000, 'the extension never called the model endpoint');
    const firstRequest = JSON.stringify(model.chatRequests()[0]?.body ?? {});
    assert.match(firstRequest, /data:image\/png;base64,/, 'the chat request carries no PNG image');
    await screenshot(page, 'refigure-panel-busy');
    // The model's code is rendered by local Python; the badge settles on rendered (or error) when that is done.
    const settled = panel.locator('.bar .status.status-rendered, .bar .status.status-error');
    await settled.waitFor({ timeout: 120_000 });
    const status = await settled.getAttribute('class');
    await screenshot(page, 'refigure-panel');
    assert.ok(statSync(join(resultsDir, 'refigure-panel.png')).size > 10_000, 'the panel screenshot is empty');
    assert.match(status ?? '', /status-rendered/, `the reconstruction ended in ${status}; see test-results/e2e/refigure-panel.png`);
    // The caption the model wrote about the successful render is shown as text in the panel.
    await panel.locator('.caption-box', { hasText: captionText }).waitFor({ timeout: 30_000 });
    // Side by side shows both images once the redraw exists.
    assert.ok((await panel.locator('#app .stage img').count()) >= 2, 'the panel does not show the original and the render');
    // A model's result can be refined once nothing runs any more.
    await panel.locator('.actions vscode-button:not([hidden])', { hasText: 'Refine' }).waitFor({ timeout: 10_000 });

    await t.test('the verdict comes first, in words, and agrees with the headline figure', () => checkVerdict(panel));
    await t.test('the figures table lists every fidelity figure in words, as a number, with a bar coloured by goodness', () => checkFigures(panel));
    await t.test('the four compare modes switch by their buttons and by the keys 1–4', () => checkCompareModes(page, panel));
    await t.test('difference mode explains its colours; the status line shows zoom and sizes; arrow keys pan', () => checkViewingAids(page, panel));
    await t.test('at 700 px side by side stacks and the actions fold; at 1,600 px, light and dark, every mode', () =>
      checkWidthsAndThemes(page, panel),
    );
    await t.test('feedback after Copy appears beside the button, inside the window, and goes away', () => checkFeedback(page, panel));
    await t.test('Refine: the progress ring turns on; then any two attempts compare on the stage, with thumbnails and the fidelity trend', () =>
      checkCompareAttempts(page, panel),
    );
    await t.test('Export SVG writes the redraw next to the image', () => checkExport(panel, join(workspace.dir, 'figures')));
    await t.test('an answer that raises: its error once, Fix Error leads, and the failed attempt is not called best', () => checkErrorScreen(page));
    await t.test('a refused key: Retry leads, Use Offline Trace is offered and, clicked, redraws offline with no trace of the failed run', () =>
      checkRefusedKeyScreen(page),
    );
    await t.test('a PNG cut short: one short message naming the file, the fault once, no absolute path', () => checkCorruptScreen(page, workspace.dir));
    await t.test('an endpoint on port 9: the panel names the refused port and what to do, never "bad port"', () => checkBlockedPortScreen(page, workspace.dir));
    await t.test('Insert as Alt Text from a Markdown document: the alt text goes in, and the feedback shows beside the button inside the window', () =>
      checkInsertFromMarkdown(page),
    );
    await t.test("a notebook figure's panel is named by the notebook and the cell", () => checkNotebookTitle(page));
    await t.test('no model named and two served: Choose Model lists them, and the pick runs the reconstruction again', () =>
      checkChooseModel(page, workspace.dir, model),
    );
  } finally {
    if (workbench) await workbench.close();
    await server.stop();
    await model.close();
    workspace.dispose();
  }
});

/** The figure the scripted model reconstructs; its reply below redraws this very figure, so the compare modes show a close match. */
const fixture = 'algebra--image305.png';
const captionText = 'A numbered list of four rows of stars, squares and triangles, each row priced in dollars.';

/** What a good model answers for the fixture: prose and matplotlib code that redraws the four priced rows of shapes. */
const reconstructionReply = [
  'The figure is four numbered rows of black markers with a price on the right. Here is the code.',
  '',
  '```python',
  readFileSync(join(repoRoot, 'test', 'fixtures', 'text', 'priced-rows.py'), 'utf8').trimEnd(),
  '```',
].join('\n');

/** A copy of the fixture the model answers with code that raises. */
const raisingFigure = 'raising.png';
const raisedName = 'undefined_marker_size';
const raisingReply = reconstructionReply.replace('plt.show()', `ax.plot([0], [0], markersize=${raisedName})`);

/** Code for the reconstruction request (code that raises for the raising figure); a caption in the asked-for format for the caption request. */
function scriptedModel(request: RecordedRequest): Step {
  if (answerRefuses) return { status: 401, body: { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } } };
  const asksForCaption = /Alt text:/.test(JSON.stringify(request.body ?? ''));
  if (asksForCaption) return { reply: `Caption: ${captionText}\nAlt text: Four priced rows of shapes.` };
  // A slow answer streams for a few seconds, so the panel's progress can be watched.
  return { reply: answerRaises ? raisingReply : reconstructionReply, ...(answerSlowly ? { chunkSize: 8, delayMs: 25 } : {}) };
}
let answerRaises = false;
let answerSlowly = false;
let answerRefuses = false;
/** A copy of the fixture whose reconstruction the endpoint refuses (a wrong key). */
const refusedFigure = 'refused.png';
/** A copy of the fixture reconstructed while the endpoint is set to a port HTTP clients refuse. */
const blockedPortFigure = 'port-nine.png';
/** A copy of the fixture reconstructed while the workspace names no model. */
const unnamedModelFigure = 'no-model-named.png';
/** The fixture's first bytes only. */
const corruptFigure = 'cut-short.png';
/** A Markdown document in the workspace whose image link is the fixture. */
const notesFile = 'notes.md';
/** A notebook whose second cell shows the fixture as its output. */
const notebookFile = 'analysis.ipynb';

function notebookShowing(png: Buffer): string {
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }, language_info: { name: 'python' } },
    cells: [
      { cell_type: 'markdown', id: 'intro', metadata: {}, source: ['The priced rows, drawn.'] },
      { cell_type: 'code', id: 'plot', metadata: {}, execution_count: 1, source: ['draw_rows()'], outputs: [{ output_type: 'display_data', metadata: {}, data: { 'image/png': png.toString('base64'), 'text/plain': ['<Figure>'] } }] },
    ],
  };
  return JSON.stringify(notebook, null, 1);
}

async function expectEventually(check: () => boolean, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(message);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Polls an in-page reading until `ok` accepts it; fails with the last reading so the message shows what the panel had. */
async function waitForReading<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number, message: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) assert.fail(`${message}; last seen: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ── the panel's DOM, read inside the webview ─────────────────────────────────

/** The few DOM members the in-page readings use (the tests compile without the DOM lib). */
interface DomNode {
  className: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): DomNode | null;
  querySelectorAll(selector: string): ArrayLike<DomNode>;
}
interface DomImage extends DomNode {
  alt: string;
  src: string;
  hidden: boolean;
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
}
interface DomInput extends DomNode {
  value: string;
}
interface DomWindow {
  getComputedStyle(node: DomNode): { opacity: string; clipPath: string };
}

interface StageImage {
  alt: string;
  src: string;
  top: boolean;
  decoded: boolean;
  width: number;
  height: number;
}
interface StageReading {
  stageClass: string;
  pressedModes: string[];
  images: StageImage[];
  empty: string[];
  divider?: { valueNow: string | null };
  topLayer?: { opacity: string; clipPath: string };
  slider?: { value: string };
}

/** One look at the compare stage and its mode bar. */
function readStage(panel: FrameLocator): Promise<StageReading> {
  return panel.locator('#app').evaluate((node) => {
    const app = node as unknown as DomNode;
    const win = globalThis as unknown as DomWindow;
    const stage = app.querySelector('.stage');
    const topImage = app.querySelector('.stage .layer.top img');
    const images = Array.from(app.querySelectorAll('.stage img') as ArrayLike<DomImage>).map((img) => ({
      alt: img.alt,
      src: img.src,
      top: img === topImage,
      decoded: !img.hidden && img.complete && img.naturalWidth > 0,
      width: img.naturalWidth,
      height: img.naturalHeight,
    }));
    const divider = app.querySelector('.stage .divider');
    const top = app.querySelector('.stage .layer.top');
    const topStyle = top ? win.getComputedStyle(top) : undefined;
    const slider = app.querySelector('.toolbar input[type="range"]') as DomInput | null;
    return {
      stageClass: stage?.className ?? '',
      pressedModes: Array.from(app.querySelectorAll('.toolbar vscode-button[aria-pressed="true"]'))
        .map((b) => `${(b.textContent ?? '').trim().split(' ')[0]} ${b.querySelector('.long')?.textContent ?? ''}`)
        .filter((text) => /^[1-4] /.test(text)),
      images,
      empty: Array.from(app.querySelectorAll('.stage .empty')).map((e) => e.textContent ?? ''),
      divider: divider ? { valueNow: divider.getAttribute('aria-valuenow') } : undefined,
      topLayer: topStyle ? { opacity: topStyle.opacity, clipPath: topStyle.clipPath } : undefined,
      slider: slider ? { value: slider.value } : undefined,
    };
  });
}

const figureNames: Record<string, string> = {
  fidelity: 'Overall fidelity',
  ssim: 'Structure',
  pixelMatch: 'Matching pixels',
  edgeF1: 'Matching lines',
  colorCloseness: 'Colour closeness',
};

interface FigureRow {
  key: string;
  name: string;
  value: string;
  tone: string;
  tooltip: string;
  fill: number;
}

async function readFigures(panel: FrameLocator): Promise<FigureRow[]> {
  return panel.locator('.figures table tr').evaluateAll((trs) =>
    trs.map((tr) => {
      const row = tr as unknown as DomNode & { dataset: Record<string, string>; title: string };
      const fill = row.querySelector('.bar-fill') as unknown as { style: { width: string } } | null;
      return {
        key: row.dataset.key ?? '',
        name: row.querySelector('th')?.textContent ?? '',
        value: row.querySelector('td.num')?.textContent ?? '',
        tone: /tone-(\w+)/.exec(row.className)?.[1] ?? '',
        tooltip: row.title,
        fill: parseFloat(fill?.style.width ?? 'NaN') / 100,
      };
    }),
  );
}

async function checkVerdict(panel: FrameLocator): Promise<void> {
  const verdict = panel.locator('.verdict');
  await verdict.waitFor({ timeout: 10_000 });
  const code = await verdict.getAttribute('data-code');
  const text = (await verdict.locator('.verdict-text').innerText()).trim();
  const rows = await readFigures(panel);
  const fidelity = Number(rows[0]?.value);
  // The scripted model redraws the very figure: a close match, said in words before anything else.
  const expected: Record<string, string> = { close: 'Close match', partial: 'Similar, with visible differences', different: 'Different figure' };
  assert.ok(code && expected[code], `unexpected verdict code ${code}`);
  assert.equal(text, expected[code]);
  assert.equal(code === 'close', fidelity >= 0.9, `the verdict "${text}" does not agree with fidelity ${fidelity}`);
  const order = await panel.locator('#app').evaluate((node) =>
    Array.from((node as unknown as DomNode).querySelectorAll('#app > section:not([hidden])')).map((s) => s.className.split(' ')[0]),
  );
  assert.equal(order[0], 'verdict', `the verdict is not the first thing under the title: ${order.join(', ')}`);
}

async function checkFigures(panel: FrameLocator): Promise<void> {
  const rows = await readFigures(panel);
  assert.deepEqual(
    rows.map((r) => r.key).filter((k) => k !== 'textF1'),
    Object.keys(figureNames),
    'the figures table does not list the fidelity figures in order',
  );
  for (const row of rows) {
    if (figureNames[row.key]) assert.equal(row.name, figureNames[row.key], `${row.key} is not named in words`);
    assert.ok(row.tooltip.length > 20, `${row.name} has no tooltip saying what it measures`);
    assert.match(row.value, /^\d+\.\d{3}$/, `${row.name} shows "${row.value}", not a number`);
    const number = Number(row.value);
    assert.ok(number >= 0 && number <= 1, `${row.name} = ${row.value} is out of range`);
    assert.ok(['good', 'fair', 'poor'].includes(row.tone), `${row.name} has no goodness colour`);
    // Colour is drawn as closeness: the bar is as long as the figure says it is close.
    assert.ok(Math.abs(row.fill - number) < 0.011, `${row.name}: the bar is ${row.fill} long for ${row.value}`);
  }
  // The headline figure and the shown attempt's score in the history are the same number.
  const fidelity = rows[0]?.value ?? '';
  const attempt = (await panel.locator('.attempt.selected .attempt-pick').innerText()).trim();
  assert.ok(attempt.includes(` ${fidelity} `), `the attempt "${attempt}" does not carry the fidelity ${fidelity} of the table`);
}

async function checkViewingAids(page: Page, panel: FrameLocator): Promise<void> {
  await panel.locator('.toolbar vscode-button', { hasText: 'Difference' }).click();
  const legend = panel.locator('.diff-legend');
  await legend.waitFor({ state: 'visible', timeout: 5_000 });
  const items = (await legend.locator('.legend-item').allInnerTexts()).map((x) => x.trim());
  assert.deepEqual(items, ['only in the original (missing)', 'only in the redraw (extra)', 'both, other colour', 'both alike']);
  await panelScreenshot(page, 'mode-difference-legend');
  await panel.locator('.toolbar vscode-button', { hasText: 'Side by side' }).click();
  await legend.waitFor({ state: 'hidden', timeout: 5_000 });
  const line = panel.locator('.status-line');
  assert.match(await line.innerText(), /Zoom \d+ % \(Fit\) · Original \d+ × \d+ · Render \d+ × \d+/);
  assert.equal(await panel.locator('.toolbar .hint').count(), 0, 'the permanent key hint is still there');
  assert.match((await line.locator('.help').getAttribute('title')) ?? '', /arrow keys: pan/);
  await panel.locator('.stage').click({ position: { x: 8, y: 8 } });
  const before = await panel.locator('.stage .canvas').first().getAttribute('style');
  await page.keyboard.press('ArrowRight');
  await waitForReading(() => panel.locator('.stage .canvas').first().getAttribute('style'), (style) => style !== before, 5_000, 'the arrow key did not pan');
  await page.keyboard.press('0');
  await waitForReading(() => line.innerText(), (text) => text.includes('(Fit)'), 5_000, '0 did not fit the image again');
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

async function boxOf(locator: Locator): Promise<Box> {
  const box = await locator.boundingBox();
  assert.ok(box, 'not on screen');
  return box;
}

/** Changes the workbench's colour theme as a user does: the command palette's Preferences: Color Theme. */
async function setTheme(page: Page, theme: string): Promise<void> {
  await page.locator('.tabs-container .tab.active').click();
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill('>Preferences: Color Theme');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Preferences: Color Theme' }).first().click();
  await page.locator('.quick-input-list .monaco-list-row', { hasText: theme }).first().waitFor({ timeout: 10_000 });
  await input.fill(theme);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: theme }).first().click();
}

async function checkWidthsAndThemes(page: Page, panel: FrameLocator): Promise<void> {
  for (const theme of ['dark', 'light'] as const) {
    await setTheme(page, theme === 'dark' ? 'Dark Modern' : 'Light Modern');
    await waitForReading(
      () => panel.locator('body').getAttribute('class'),
      (cls) => (cls ?? '').includes(`vscode-${theme}`),
      20_000,
      `the panel did not turn ${theme}`,
    );
    for (const width of [1600, 700]) {
      await page.setViewportSize({ width, height: 1000 });
      // The panel's own width: the editor area beside the Explorer.
      await page.waitForTimeout(0);
      const frame = await boxOf(page.locator('iframe.webview.ready'));
      for (const spec of modeCases) {
        await panel.locator('.toolbar vscode-button', { hasText: spec.label }).click();
        await expectMode(panel, spec, `${theme} ${width}: ${spec.label}`);
        if (spec.mode === 'side') {
          const [left, right] = [await boxOf(panel.locator('.stage .viewport').nth(0)), await boxOf(panel.locator('.stage .viewport').nth(1))];
          const stacked = right.y >= left.y + left.height - 1;
          assert.equal(stacked, frame.width <= 700, `side by side at a ${Math.round(frame.width)} px panel: ${stacked ? 'stacked' : 'beside'} (${JSON.stringify({ left, right })})`);
          // The verdict and the stage start above the fold.
          const verdict = await boxOf(panel.locator('.verdict'));
          assert.ok(verdict.y + verdict.height <= frame.y + frame.height, 'the verdict is below the fold');
          // The header's actions fit in the bar: one row at most two buttons high.
          const actions = await boxOf(panel.locator('.actions'));
          assert.ok(actions.height < 70, `the actions take ${actions.height} px`);
        }
        await panelScreenshot(page, `${theme}-${width}-${spec.name}`);
      }
    }
  }
  await page.setViewportSize({ width: 1400, height: 900 });
}

async function checkFeedback(page: Page, panel: FrameLocator): Promise<void> {
  await panel.locator('.caption-box vscode-button', { hasText: 'Copy' }).click();
  const feedback = panel.locator('.feedback.is-visible');
  await feedback.waitFor({ timeout: 10_000 });
  const box = await boxOf(feedback);
  const frame = await boxOf(page.locator('iframe.webview.ready'));
  assert.ok(box.y >= frame.y && box.y + box.height <= frame.y + frame.height, `the feedback is outside the panel: ${JSON.stringify({ box, frame })}`);
  const button = await boxOf(panel.locator('.caption-box vscode-button', { hasText: 'Copy' }));
  assert.ok(Math.abs(box.y - (button.y + button.height)) < 60 || Math.abs(box.y + box.height - button.y) < 60, 'the feedback is not beside the button');
  // The page scrolled down to Copy; the title, status and lead action stay at the top of the panel.
  const bar = await boxOf(panel.locator('header.bar'));
  assert.ok(bar.y >= frame.y - 1 && bar.y < frame.y + 20, `the header scrolled away: ${JSON.stringify({ bar, frame })}`);
  await panelScreenshot(page, 'feedback-after-copy');
  await feedback.waitFor({ state: 'hidden', timeout: 10_000 });
}

/** Refines once (a second attempt), then puts the attempt not shown against the one shown. */
async function checkCompareAttempts(page: Page, panel: FrameLocator): Promise<void> {
  answerSlowly = true;
  await panel.locator('.actions vscode-button:not([hidden])', { hasText: 'Refine' }).first().click();
  await checkProgressTurns(panel);
  answerSlowly = false;
  await panel.locator('.attempt-list .attempt').nth(1).waitFor({ timeout: 120_000 });
  await panel.locator('.bar .status.status-rendered').waitFor({ timeout: 120_000 });
  const thumbs = panel.locator('.attempt-list .attempt-pick img.thumb');
  assert.equal(await thumbs.count(), 2, 'each attempt that rendered has its thumbnail');
  assert.equal(await panel.locator('svg.trend circle.trend-dot').count(), 2, 'the trend has a point per attempt');
  const toggle = panel.locator('.attempt-list vscode-button.compare-toggle');
  assert.equal(await toggle.count(), 1, 'only the attempt not shown offers Compare');
  const other = await panel.locator('.attempt-list .attempt:not(.selected) .attempt-pick span').innerText();
  const shown = await panel.locator('.attempt-list .attempt.selected .attempt-pick span').innerText();
  const number = (label: string) => /Attempt (\d+)/.exec(label)?.[1];
  await toggle.click();
  await panel.locator('.attempt.compared').waitFor({ timeout: 10_000 });
  await panel.locator('.toolbar vscode-button', { hasText: 'Side by side' }).click();
  await panel.locator('.stage.mode-side').waitFor({ timeout: 10_000 });
  const labels = await panel.locator('.stage .viewport-label').allInnerTexts();
  assert.deepEqual(labels, [`Attempt ${number(other)}`, `Attempt ${number(shown)}`], 'A against B on the stage');
  const sources = await panel.locator('.stage img').evaluateAll((images) => images.map((i) => i.getAttribute('src')));
  assert.equal(new Set(sources).size, 2, 'two different renders side by side');
  assert.equal(await panel.locator('svg.trend circle.trend-dot.compared').count(), 1);
  await screenshot(page, 'compare-two-attempts');
  mkdirSync(resultsDir, { recursive: true });
  await panel.locator('.attempts').screenshot({ path: join(resultsDir, 'attempts-thumbnails-trend.png') });
  // Again: back to the original.
  await toggle.click();
  await panel.locator('.attempt.compared').waitFor({ state: 'detached', timeout: 10_000 });
  assert.equal((await panel.locator('.stage .viewport-label').allInnerTexts())[0], 'Original');
}

/** While the model answers, the progress ring is one element whose animation runs on (it is not rebuilt). */
async function checkProgressTurns(panel: FrameLocator): Promise<void> {
  const ring = panel.locator('.progress vscode-progress-ring, vscode-progress-ring').first();
  await ring.waitFor({ state: 'visible', timeout: 30_000 });
  const read = () =>
    ring.evaluate((element) => {
      const marked = (element as { refigureProbe?: boolean }).refigureProbe === true;
      (element as { refigureProbe?: boolean }).refigureProbe = true;
      type Running = { playState: string; currentTime: unknown };
      const animations: Running[] = [...(element.shadowRoot?.getAnimations?.() ?? []), ...element.getAnimations({ subtree: true })];
      return { marked, running: animations.filter((a) => a.playState === 'running').length, time: Math.max(0, ...animations.map((a) => Number(a.currentTime ?? 0))) };
    });
  const first = await read();
  await new Promise((r) => setTimeout(r, 1_200));
  const later = await read();
  assert.ok(later.marked, 'the progress ring was rebuilt while it turned');
  assert.ok(first.running > 0 && later.running > 0, `no animation runs on the progress ring: ${JSON.stringify({ first, later })}`);
  assert.ok(later.time > first.time, `the ring's animation did not advance: ${JSON.stringify({ first, later })}`);
}

/** Runs a command by its title from the command palette (F1). */
async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
}

/** The panel (of several webviews) whose heading names the figure. */
async function panelTitled(page: Page, name: string): Promise<FrameLocator> {
  const frames = page.locator('iframe.webview.ready');
  let seen: string[] = [];
  await expectEventuallyAsync(async () => {
    seen = [];
    for (let i = 0; i < (await frames.count()); i++) {
      const heading = frames.nth(i).contentFrame().frameLocator('#active-frame').locator('.title h1');
      const text = (await heading.count()) ? await heading.innerText() : '';
      seen.push(text);
      if (text === name) return true;
    }
    return false;
  }, 30_000, () => `no panel titled ${name}; panels: ${seen.join(', ')}`);
  const index = seen.indexOf(name);
  return frames.nth(index).contentFrame().frameLocator('#active-frame');
}

async function expectEventuallyAsync(check: () => Promise<boolean>, timeoutMs: number, message: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(message());
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Reconstructs a figure from its Explorer menu and returns its panel (one of several). */
async function reconstructFromExplorer(page: Page, name: string): Promise<FrameLocator> {
  await chooseReconstructInExplorer(page, name);
  await page.locator('.tabs-container .tab', { hasText: `Refigure: ${name}` }).waitFor({ timeout: 30_000 });
  return panelTitled(page, name);
}

/** Closes every editor, then chooses Reconstruct Figure in the figure's Explorer menu. */
async function chooseReconstructInExplorer(page: Page, name: string): Promise<void> {
  // One panel at a time: webviews of editor groups pushed aside are not always drawn.
  await runCommand(page, 'View: Close All Editors');
  await page.locator('iframe.webview').first().waitFor({ state: 'detached', timeout: 15_000 });
  await showExplorer(page);
  const row = explorerRow(page, name);
  await row.waitFor({ timeout: 15_000 });
  const { menu } = await contextMenuWith(page, row, 'Reconstruct Figure', 30_000);
  // A click that comes right as the menu opens is taken for the end of the right-click; the keyboard is not.
  await menu.locator('.action-item', { hasText: 'Reconstruct Figure' }).hover();
  await page.keyboard.press('Enter');
}

async function checkExport(panel: FrameLocator, folder: string): Promise<void> {
  const target = join(folder, `${basename(fixture, '.png')}.refigure.svg`);
  await panel.locator('.actions vscode-button', { hasText: 'Export SVG' }).click();
  await expectEventually(() => existsSync(target), 60_000, `${target} was not written`);
  await expectEventually(() => /<svg[\s>]/.test(readFileSync(target, 'utf8')), 10_000, `${target} is not an SVG`);
}

/** The endpoint refuses the key: the panel says so once, leads with Retry, and offers the offline trace. */
async function checkRefusedKeyScreen(page: Page): Promise<void> {
  answerRefuses = true;
  const panel = await reconstructFromExplorer(page, refusedFigure);
  await panel.locator('.bar .status.status-error').waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1_000);
  await screenshot(page, 'error-key-refused');
  // Said once, beside the figure: no notification repeats what the panel's notice says.
  assert.equal(await page.locator('.notification-toast', { hasText: 'refused the API key' }).count(), 0, 'a notification repeats the notice');
  const notice = panel.locator('.notice .notice-line');
  assert.match(await notice.innerText(), /key/i);
  const offered = (await notice.locator('vscode-button').allInnerTexts()).map((s) => s.trim());
  assert.ok(offered.includes('Use Offline Trace'), `the notice offers ${offered.join(', ')}`);
  assert.equal((await panel.locator('.actions vscode-button.lead').innerText()).trim(), 'Retry');
  const text = await panel.locator('#app').innerText();
  assert.equal(text.split('Incorrect API key provided').length - 1, 1, `the refusal is told ${text.split('Incorrect API key provided').length - 1} times:\n${text}`);
  answerRefuses = false;
  await notice.locator('vscode-button', { hasText: 'Use Offline Trace' }).click();
  // While the offline trace runs, the badge says so: never "Asking the model".
  const offlineBadges = await badgesUntilSettled(page, panel, 'offline-run-busy');
  assert.ok(!offlineBadges.some((b) => /model/i.test(b)), `an offline run's badge spoke of the model: ${offlineBadges.join(' | ')}`);
  await panel.locator('.chip-offline').waitFor({ timeout: 10_000 });
  const after = await panel.locator('#app').innerText();
  assert.doesNotMatch(after, /Incorrect API key/, 'the failed run\'s message stays after the offline redraw');
  await screenshot(page, 'offline-after-refused-key');

  // The endpoint answers again: a model run starts from a clean view, nothing of the offline one beside it.
  answerSlowly = true;
  await panel.locator('header.bar vscode-button', { hasText: /^\s*Reconstruct\s*$/ }).first().click();
  await panel.locator('.bar .status:not(.status-rendered):not(.status-error)').waitFor({ timeout: 30_000 });
  await page.waitForTimeout(300);
  await screenshot(page, 'model-run-after-offline-busy');
  const busyText = await panel.locator('#app').innerText();
  assert.equal(await panel.locator('.chip-offline').count(), 0, 'the offline chip stays beside a model run');
  assert.doesNotMatch(busyText, /offline trace made this redraw|No model endpoint/i, `the offline run's note stays during the model run:\n${busyText}`);
  answerSlowly = false;
  await panel.locator('.bar .status.status-rendered').waitFor({ timeout: 120_000 });
  await panel.locator('.caption-box', { hasText: captionText }).waitFor({ timeout: 30_000 });
  assert.equal(await panel.locator('.chip-offline').count(), 0);
  await screenshot(page, 'model-run-after-offline');
}

/** The status badge's texts from now until the run settles (rendered or error), with a screenshot of the first busy one. */
async function badgesUntilSettled(page: Page, panel: FrameLocator, shot: string): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + 120_000;
  let shotTaken = false;
  for (;;) {
    const badge = panel.locator('.bar .status');
    const cls = (await badge.getAttribute('class')) ?? '';
    const text = (await badge.innerText()).trim();
    if (/status-(rendered|error)/.test(cls)) return seen;
    if (!seen.includes(text)) seen.push(text);
    if (!shotTaken) {
      shotTaken = true;
      await screenshot(page, shot);
    }
    assert.ok(Date.now() < deadline, `the run never settled; badges: ${seen.join(' | ')}`);
    await page.waitForTimeout(50);
  }
}

/** Reconstructs the raising figure from the Explorer and reads its panel: an error screen a user can act on. */
async function checkErrorScreen(page: Page): Promise<void> {
  answerRaises = true;
  // Two panels are open now: the one whose title names the raising figure.
  const panel = await reconstructFromExplorer(page, raisingFigure);
  await panel.locator('.bar .status.status-error').waitFor({ timeout: 120_000 });
  await screenshot(page, 'error-code-raises');
  const text = await panel.locator('#app').innerText();
  // The message once; the code listing beside it shows the line that raised.
  const message = `NameError: name '${raisedName}' is not defined`;
  const mentions = text.split(message).length - 1;
  assert.equal(mentions, 1, `the error is shown ${mentions} times:\n${text}`);
  assert.match(text, new RegExp(`\\d+ax\\.plot\\(\\[0\\], \\[0\\], markersize=${raisedName}\\)`), 'the listing shows the line that raised');
  const lead = panel.locator('.actions vscode-button.lead');
  assert.equal((await lead.innerText()).trim(), 'Fix Error', 'the lead action of a failed render is Fix Error');
  assert.doesNotMatch(await panel.locator('.attempts').innerText(), /★/, 'a failed attempt is called best');
  answerRaises = false;
}

/** The messages a user sees about the last action: the panel's notice and feedback, and the workbench's notifications. */
async function visibleMessages(page: Page): Promise<string> {
  const parts: string[] = [];
  for (const toast of await page.locator('.notification-toast').all()) parts.push(await toast.innerText());
  const frames = page.locator('iframe.webview.ready');
  for (let i = 0; i < (await frames.count()); i++) {
    const app = frames.nth(i).contentFrame().frameLocator('#active-frame').locator('#app');
    if (await app.count()) parts.push(await app.innerText());
  }
  return parts.join('\n');
}

/** A PNG cut short: whichever surface says so, it says it once, short, with the file's name and not its full path. */
async function checkCorruptScreen(page: Page, workspaceDir: string): Promise<void> {
  await chooseReconstructInExplorer(page, corruptFigure);
  let text = '';
  await expectEventuallyAsync(async () => /cut short|corrupt|truncated/i.test((text = await visibleMessages(page))), 60_000, () => `no message about the corrupt PNG; seen:\n${text}`);
  await page.waitForTimeout(500);
  await screenshot(page, 'error-corrupt-png');
  text = await visibleMessages(page);
  assert.equal(text.split('cut short').length - 1, 1, `"cut short" is said ${text.split('cut short').length - 1} times:\n${text}`);
  assert.ok(text.includes(corruptFigure), `the message does not name ${corruptFigure}:\n${text}`);
  assert.ok(!text.includes(workspaceDir), `the message shows the absolute path:\n${text}`);
  for (const toast of await page.locator('.notification-toast').all()) await toast.hover().then(() => page.keyboard.press('Escape')).catch(() => undefined);
}

/**
 * Reconstructs the figure until the run ends in an error. Settings take effect without a reload, once the
 * workbench's watcher has seen the settings file just written.
 */
async function reconstructUntilError(page: Page, name: string, setting: string): Promise<FrameLocator> {
  for (let attempt = 1; ; attempt++) {
    await page.waitForTimeout(2_000);
    const panel = await reconstructFromExplorer(page, name);
    await panel.locator('.bar .status.status-error, .bar .status.status-rendered').waitFor({ timeout: 120_000 });
    if (await panel.locator('.bar .status.status-error').count()) return panel;
    assert.ok(attempt < 4, `${setting} never took effect`);
  }
}

/** The endpoint set, in the workspace's settings, to a port fetch refuses: the error says which port and what to do. */
async function checkBlockedPortScreen(page: Page, workspaceDir: string): Promise<void> {
  const settingsDir = join(workspaceDir, '.vscode');
  mkdirSync(settingsDir, { recursive: true });
  const settings = join(settingsDir, 'settings.json');
  writeFileSync(settings, JSON.stringify({ 'refigure.endpoint': 'http://127.0.0.1:9/v1' }));
  try {
    const panel = await reconstructUntilError(page, blockedPortFigure, 'the workspace setting of the endpoint');
    await page.waitForTimeout(500);
    await screenshot(page, 'error-port-9');
    const text = await panel.locator('#app').innerText();
    assert.match(text, /uses port 9, which HTTP clients refuse to connect to/, text);
    assert.match(text, /Serve the model on another port/, text);
    assert.doesNotMatch(await visibleMessages(page), /bad port/i);
  } finally {
    rmSync(settingsDir, { recursive: true, force: true });
    await page.waitForTimeout(2_000);
  }
}

/** The workspace leaves the model name blank and the endpoint serves two: the panel offers Choose Model, whose pick runs again. */
async function checkChooseModel(page: Page, workspaceDir: string, server: ScriptedServer): Promise<void> {
  const settingsDir = join(workspaceDir, '.vscode');
  mkdirSync(settingsDir, { recursive: true });
  writeFileSync(join(settingsDir, 'settings.json'), JSON.stringify({ 'refigure.model': '' }));
  server.push({ models: ['scripted-model', 'another-model'] });
  try {
    const panel = await reconstructUntilError(page, unnamedModelFigure, 'the blank model name of the workspace');
    const notice = panel.locator('.notice .notice-line');
    await notice.locator('vscode-button', { hasText: 'Choose Model' }).waitFor({ timeout: 10_000 });
    await screenshot(page, 'error-model-unnamed');
    await notice.locator('vscode-button', { hasText: 'Choose Model' }).click();
    const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
    await rows.first().waitFor({ timeout: 30_000 });
    const listed = (await rows.allInnerTexts()).map((r) => r.trim().split('\n')[0]);
    assert.deepEqual(listed.slice().sort(), ['another-model', 'scripted-model'], `the pick lists ${listed.join(', ')}`);
    // The list fades in: the screenshot waits for it.
    await page.waitForTimeout(500);
    await screenshot(page, 'choose-model-pick');
    await rows.filter({ hasText: 'scripted-model' }).first().click();
    await panel.locator('.bar .status.status-rendered').waitFor({ timeout: 120_000 });
    assert.match(readFileSync(join(settingsDir, 'settings.json'), 'utf8'), /"refigure\.model":\s*"scripted-model"/, 'the pick is kept where the blank name was');
    await screenshot(page, 'after-choose-model');
  } finally {
    server.push({ models: ['scripted-model'] });
    rmSync(settingsDir, { recursive: true, force: true });
    await page.waitForTimeout(2_000);
  }
}

/** Closes every editor, then opens a workspace file by Quick Open, as a user does. */
async function openAlone(page: Page, file: string): Promise<void> {
  await runCommand(page, 'View: Close All Editors');
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill(file);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: file }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
}

/** Reconstructs the Markdown document's figure from its editor, then inserts the caption as the link's alt text. */
async function checkInsertFromMarkdown(page: Page): Promise<void> {
  await openAlone(page, notesFile);
  const editor = page.locator('.editor-instance .monaco-editor').first();
  await editor.waitFor({ timeout: 15_000 });
  // The cursor on the image link: the command reconstructs the figure it names.
  await editor.locator('.view-line', { hasText: `figures/${fixture}` }).click();
  await page.keyboard.press('Home');
  for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowRight');
  await runCommand(page, 'Refigure: Reconstruct Figure');
  await page.locator('.tabs-container .tab', { hasText: `Refigure: ${fixture}` }).waitFor({ timeout: 30_000 });
  const panel = await panelTitled(page, fixture);
  await panel.locator('.bar .status.status-rendered, .bar .status.status-error').waitFor({ timeout: 120_000 });
  if (await panel.locator('.bar .status.status-error').count()) {
    await screenshot(page, 'insert-reconstruct-failed');
    assert.fail(`the reconstruction from the Markdown document failed: ${await panel.locator('#app').innerText()}`);
  }
  const insert = panel.locator('vscode-button', { hasText: 'Insert as Alt Text' }).first();
  await insert.waitFor({ timeout: 10_000 });
  await insert.click();
  // A caption of a redraw whose text differs goes in only when the user says so: VS Code's own dialog asks.
  const dialog = page.locator('.monaco-dialog-box');
  const feedback = panel.locator('.feedback.is-visible');
  await expectEventuallyAsync(async () => (await dialog.count()) > 0 || (await feedback.count()) > 0, 30_000, () => 'neither a question nor feedback after Insert');
  if (await dialog.count()) {
    await screenshot(page, 'insert-asks-text-differs');
    assert.match(await dialog.innerText(), /differ/i);
    await dialog.locator('.monaco-button', { hasText: /Insert/ }).first().click();
  }
  await feedback.waitFor({ timeout: 30_000 });
  await screenshot(page, 'feedback-after-insert');
  const box = await boxOf(feedback);
  const frame = await boxOf(page.locator('iframe.webview.ready').first());
  const viewport = page.viewportSize();
  assert.ok(viewport && box.y >= 0 && box.y + box.height <= viewport.height && box.x >= 0 && box.x + box.width <= viewport.width, `the feedback is outside the window: ${JSON.stringify({ box, viewport })}`);
  assert.ok(box.y >= frame.y && box.y + box.height <= frame.y + frame.height, `the feedback is outside the panel: ${JSON.stringify({ box, frame })}`);
  const button = await boxOf(insert);
  const buttonInView = button.y + button.height > frame.y && button.y < frame.y + frame.height;
  if (buttonInView) assert.ok(Math.abs(box.y - (button.y + button.height)) < 60 || Math.abs(box.y + box.height - button.y) < 60, `the feedback is not beside the Insert button: ${JSON.stringify({ box, button })}`);
  else assert.ok(box.y + box.height > frame.y + frame.height - 60, `the Insert button is scrolled away, and the feedback is not at the panel's foot: ${JSON.stringify({ box, frame })}`);
  // The alt text is in the document, in the link.
  await page.locator('.tabs-container .tab', { hasText: notesFile }).click();
  let lines = '';
  await expectEventuallyAsync(async () => (lines = (await editor.locator('.view-lines').innerText()).replace(/\u00a0/g, ' ')).includes('![Four priced rows of shapes.]'), 15_000, () => `the document reads: ${lines}`);
  await screenshot(page, 'markdown-after-insert');
}

/** Reconstructs a notebook cell's figure from the cell's toolbar: the panel names the notebook and the cell, not a hash. */
async function checkNotebookTitle(page: Page): Promise<void> {
  await openAlone(page, notebookFile);
  const cell = page.locator('.notebookOverlay .code-cell-row').first();
  await cell.waitFor({ timeout: 30_000 });
  // The cell's toolbar shows its actions once the cell is focused and hovered.
  await cell.locator('.cell-editor-container, .monaco-editor').first().click();
  await cell.hover();
  // The cell's toolbar offers Reconstruct Figure (its wand icon) once the cell is hovered.
  const wand = page.locator('.notebookOverlay .cell-title-toolbar .action-label.codicon-wand').first();
  if (await wand.waitFor({ timeout: 10_000 }).then(() => true, () => false)) await wand.click();
  else {
    // Not drawn in every workbench (code-server 1.139 leaves it out): the command palette, for the selected cell.
    const labels = await page.locator('.notebookOverlay .cell-title-toolbar .action-label').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('aria-label')));
    process.stderr.write(`the cell's toolbar shows: ${labels.join(' | ')}\n`);
    await screenshot(page, 'notebook-cell-toolbar');
    await runCommand(page, 'Refigure: Reconstruct Figure of the Notebook Cell');
  }
  const title = `${notebookFile} · Cell 2`;
  await page.locator('.tabs-container .tab', { hasText: `Refigure: ${title}` }).waitFor({ timeout: 30_000 }).catch(async (error: unknown) => {
    await screenshot(page, 'notebook-no-panel');
    throw new Error(`no panel titled ${title}; tabs: ${await page.locator('.tabs-container').innerText()}`, { cause: error });
  });
  const panel = await panelTitled(page, title);
  await panel.locator('.bar .status.status-rendered, .bar .status.status-error').waitFor({ timeout: 120_000 });
  await screenshot(page, 'notebook-figure-title');
  assert.doesNotMatch((await page.locator('.tabs-container').allInnerTexts()).join(' '), /[0-9a-f]{16}\.png/, 'a tab is named by a hash');
}

interface ModeCase {
  mode: ViewMode;
  /** The screenshot's name: mode-<name>.png. */
  name: string;
  label: string;
}

const modeCases: ModeCase[] = [
  { mode: 'side', name: 'side-by-side', label: 'Side by side' },
  { mode: 'swipe', name: 'swipe', label: 'Swipe' },
  { mode: 'onion', name: 'onion-skin', label: 'Onion skin' },
  { mode: 'diff', name: 'difference', label: 'Difference' },
];

/** The keyboard shortcut of a mode is its place in the mode bar. */
function modeKey(mode: ViewMode): string {
  return String(viewModes.indexOf(mode) + 1);
}

/** Waits until the stage and the mode bar both say `mode` and every image on the stage has decoded. */
async function expectMode(panel: FrameLocator, { mode, label }: ModeCase, how: string): Promise<StageReading> {
  const reading = await waitForReading(
    () => readStage(panel),
    (r) => r.stageClass.split(/\s+/).includes(`mode-${mode}`) && r.images.length > 0 && r.images.every((i) => i.decoded),
    15_000,
    `${how} did not switch the stage to ${label} with every image decoded`,
  );
  assert.deepEqual(reading.pressedModes, [`${modeKey(mode)} ${label}`], `${how}: the mode bar does not mark ${label} (alone) as selected`);
  assert.deepEqual(reading.empty, [], `${how}: the ${label} stage shows a placeholder instead of an image`);
  return reading;
}

async function switchByButton(panel: FrameLocator, spec: ModeCase): Promise<StageReading> {
  const before = await readStage(panel);
  assert.ok(!before.stageClass.includes(`mode-${spec.mode}`), `already in ${spec.label} before the click`);
  await panel.locator('.toolbar vscode-button', { hasText: spec.label }).click();
  return expectMode(panel, spec, `clicking "${spec.label}"`);
}

async function switchByKey(page: Page, panel: FrameLocator, spec: ModeCase): Promise<StageReading> {
  const before = await readStage(panel);
  assert.ok(!before.stageClass.includes(`mode-${spec.mode}`), `already in ${spec.label} before the key`);
  // The keys act on the webview's document, so the focus has to be inside it; a click without a drag does not pan.
  await panel.locator('.stage').click({ position: { x: 8, y: 8 } });
  await page.keyboard.press(modeKey(spec.mode));
  return expectMode(panel, spec, `pressing ${modeKey(spec.mode)}`);
}

async function panelScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, `${name}.png`);
  await page.locator('iframe.webview.ready').screenshot({ path });
  assert.ok(statSync(path).size > 10_000, `the screenshot ${path} is empty`);
  return path;
}

function modeCase(mode: ViewMode): ModeCase {
  const found = modeCases.find((c) => c.mode === mode);
  assert.ok(found, `no test case for the mode ${mode}`);
  return found;
}

function imageBy(reading: StageReading, alt: string): StageImage {
  const image = reading.images.find((i) => i.alt === alt);
  assert.ok(image, `no "${alt}" image on the stage: ${JSON.stringify(reading.images)}`);
  return image;
}

/** The clip of the swipe's top layer as the share of the width it hides on the left. */
function swipeInset(clipPath: string): number {
  const match = /^inset\(0(?:px)? 0(?:px)? 0(?:px)? ([\d.]+)%\)$/.exec(clipPath);
  assert.ok(match?.[1], `the swipe clip is "${clipPath}", not a left inset`);
  return Number(match[1]) / 100;
}

async function checkCompareModes(page: Page, panel: FrameLocator): Promise<void> {
  assert.deepEqual(
    modeCases.map((c) => c.mode),
    [...viewModes],
    'the test covers other modes than the panel has',
  );
  // The side-by-side stage is where the panel opens; leave it first so that coming back is a real switch.
  const first = await readStage(panel);
  assert.match(first.stageClass, /\bmode-side\b/, 'the panel did not open side by side');

  // Swipe: the render on top, clipped at a divider that a drag moves.
  const swipe = await switchByButton(panel, modeCase('swipe'));
  const original = imageBy(swipe, 'Original');
  const render = imageBy(swipe, 'Render');
  assert.ok(render.top && !original.top, 'in swipe mode the render is not the top layer');
  assert.notEqual(render.src, original.src, 'the render shows the original file');
  assert.ok(swipe.divider, 'swipe mode has no divider');
  assert.ok(swipe.topLayer, 'swipe mode has no top layer');
  const insetBefore = swipeInset(swipe.topLayer.clipPath);
  const divider = panel.locator('.stage .divider');
  const box = await divider.boundingBox();
  assert.ok(box, 'the swipe divider is not on screen');
  const stageBox = await panel.locator('.stage .viewport').boundingBox();
  assert.ok(stageBox, 'the swipe viewport is not on screen');
  // Left of the middle, the cut runs through the rows of shapes, where a mismatch would show.
  const targetX = stageBox.x + stageBox.width * (Math.abs(insetBefore - 0.42) > 0.05 ? 0.42 : 0.6);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(targetX, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  const dragged = await waitForReading(
    () => readStage(panel),
    (r) => r.topLayer !== undefined && r.topLayer.clipPath !== swipe.topLayer?.clipPath,
    5_000,
    'dragging the swipe divider did not change the clip',
  );
  const insetAfter = swipeInset(dragged.topLayer?.clipPath ?? '');
  const expected = (targetX - stageBox.x) / stageBox.width;
  assert.ok(Math.abs(insetAfter - expected) < 0.05, `the clip moved to ${insetAfter}, not to the drop point ${expected.toFixed(3)}`);
  assert.equal(dragged.divider?.valueNow, String(Math.round(insetAfter * 100)), 'the divider reports another position than the clip');
  await panelScreenshot(page, 'mode-swipe');

  // Onion skin: the render on top of the original with the slider's opacity.
  const onion = await switchByButton(panel, modeCase('onion'));
  assert.ok(imageBy(onion, 'Render').top, 'in onion-skin mode the render is not the top layer');
  assert.ok(onion.slider && onion.topLayer, 'onion-skin mode has no opacity slider or no top layer');
  assert.equal(onion.topLayer.clipPath, 'none', 'the onion-skin top layer is still clipped');
  const slider = panel.locator('.toolbar input[type="range"]');
  const sliderBox = await slider.boundingBox();
  assert.ok(sliderBox, 'the opacity slider is not on screen');
  const share = Number(onion.slider.value) > 0.5 ? 0.3 : 0.7;
  await page.mouse.click(sliderBox.x + sliderBox.width * share, sliderBox.y + sliderBox.height / 2);
  const faded = await waitForReading(
    () => readStage(panel),
    (r) => r.topLayer !== undefined && r.topLayer.opacity !== onion.topLayer?.opacity,
    5_000,
    'moving the opacity slider did not change the top image',
  );
  assert.ok(faded.slider && faded.topLayer);
  assert.ok(Math.abs(Number(faded.topLayer.opacity) - Number(faded.slider.value)) < 0.01, `opacity ${faded.topLayer.opacity} is not the slider's ${faded.slider.value}`);
  assert.ok(Math.abs(Number(faded.slider.value) - share) < 0.1, `clicking the slider at ${share} set it to ${faded.slider.value}`);
  await panelScreenshot(page, 'mode-onion-skin');

  // Difference: one image, the diff, which is neither input.
  const diff = await switchByButton(panel, modeCase('diff'));
  assert.equal(diff.images.length, 1, 'difference mode shows more than the diff image');
  const diffImage = imageBy(diff, 'Difference');
  assert.ok(diffImage.src !== original.src && diffImage.src !== render.src, 'the difference image is one of the inputs');
  assert.equal(diff.divider, undefined, 'difference mode still has the swipe divider');
  await panelScreenshot(page, 'mode-difference');

  const side = await switchByButton(panel, modeCase('side'));
  assert.equal(side.images.length, 2, 'side by side does not show exactly two images');
  assert.equal(imageBy(side, 'Original').src, original.src);
  assert.equal(imageBy(side, 'Render').src, render.src);
  assert.equal(side.slider, undefined, 'side by side still shows the opacity slider');
  await panelScreenshot(page, 'mode-side-by-side');

  // Every mode once more by its key, each from another mode; the settings made above stay.
  const byKey = await switchByKey(page, panel, modeCase('swipe'));
  assert.equal(byKey.topLayer?.clipPath, dragged.topLayer?.clipPath, 'the swipe position was lost on the way round');
  const onionByKey = await switchByKey(page, panel, modeCase('onion'));
  assert.equal(onionByKey.topLayer?.opacity, faded.topLayer.opacity, 'the opacity was lost on the way round');
  await switchByKey(page, panel, modeCase('diff'));
  await switchByKey(page, panel, modeCase('side'));
}
