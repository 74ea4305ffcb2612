// Drives the real VS Code workbench in Chromium: right-click a figure in the Explorer, Reconstruct Figure, look at the panel.
import * as assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { viewModes, type ViewMode } from '../../src/shared/protocol';
import { repoRoot, scratch, stemFixtures } from '../support/paths';
import { startScriptedServer, type RecordedRequest } from '../support/scriptedServer';

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

    await t.test('the figures table lists every fidelity figure as a number', () => checkFigures(panel));
    await t.test('the four compare modes switch by their buttons and by the keys 1–4', () => checkCompareModes(page, panel));
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
  'import matplotlib.pyplot as plt',
  '',
  'fig = plt.figure(figsize=(4, 4), dpi=100)',
  'ax = fig.add_axes([0, 0, 1, 1])',
  'ax.set_xlim(0, 400)',
  'ax.set_ylim(400, 0)',
  "ax.axis('off')",
  'rows = [',
  "    ('1.', [('*', 124), ('*', 157), ('*', 191), ('*', 225), ('*', 259)], '$10'),",
  "    ('2.', [('*', 123), ('s', 157), ('*', 191), ('s', 226), ('*', 260)], '$8'),",
  "    ('3.', [('^', 133), ('s', 163), ('^', 191), ('s', 220), ('^', 249)], '$17'),",
  "    ('4.', [('*', 128), ('s', 163), ('s', 199), ('^', 228), ('*', 255)], '$?'),",
  ']',
  "sizes = {'*': 15, 's': 14, '^': 9}",
  'for i, (label, shapes, price) in enumerate(rows):',
  '    y = 108 + 62 * i',
  "    ax.text(103, y, label, fontsize=15, ha='right', va='center')",
  '    for shape, x in shapes:',
  "        ax.plot(x, y, marker=shape, markersize=sizes[shape], color='black')",
  "    ax.text(328, y, price, fontsize=9, ha='center', va='center')",
  'plt.show()',
  '```',
].join('\n');

/** Code for the reconstruction request; a caption in the asked-for format for the caption request (it asks for alt text). */
function scriptedModel(request: RecordedRequest): { reply: string } {
  const asksForCaption = /Alt text:/.test(JSON.stringify(request.body ?? ''));
  return { reply: asksForCaption ? `Caption: ${captionText}\nAlt text: Four priced rows of shapes.` : reconstructionReply };
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
        .map((b) => (b.textContent ?? '').trim())
        .filter((text) => /^[1-4] /.test(text)),
      images,
      empty: Array.from(app.querySelectorAll('.stage .empty')).map((e) => e.textContent ?? ''),
      divider: divider ? { valueNow: divider.getAttribute('aria-valuenow') } : undefined,
      topLayer: topStyle ? { opacity: topStyle.opacity, clipPath: topStyle.clipPath } : undefined,
      slider: slider ? { value: slider.value } : undefined,
    };
  });
}

const metricKeys = ['fidelity', 'ssim', 'pixelMatch', 'edgeF1', 'colorDistance'];

async function checkFigures(panel: FrameLocator): Promise<void> {
  const rows = await panel.locator('.figures table tr').evaluateAll((trs) =>
    trs.map((tr) => {
      const row = tr as unknown as DomNode;
      return { name: row.querySelector('th')?.textContent ?? '', value: row.querySelector('td.num')?.textContent ?? '' };
    }),
  );
  assert.deepEqual(
    rows.map((r) => r.name),
    metricKeys,
    'the figures table does not list the fidelity figures in order',
  );
  for (const { name, value } of rows) {
    assert.match(value, /^\d+\.\d{3}$/, `${name} shows "${value}", not a number`);
    const number = Number(value);
    assert.ok(number >= 0 && (name === 'colorDistance' || number <= 1), `${name} = ${value} is out of range`);
  }
  // The headline figure and the shown attempt's score in the history are the same number.
  const fidelity = rows[0]?.value ?? '';
  const attempt = (await panel.locator('.attempt.selected .attempt-pick').innerText()).trim();
  assert.ok(attempt.includes(` ${fidelity} `), `the attempt "${attempt}" does not carry the fidelity ${fidelity} of the table`);
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
