// The eval report opened in headless Chromium: thumbnails, escaping, and the table sorted by fidelity.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import type { Renderer } from '../../src/core/types';
import { createRenderer } from '../../src/core/render/render';
import { loadDataset } from '../../src/core/eval/evalDataset';
import { type EvalRecord, runEvaluation } from '../../src/core/eval/evalRun';
import { summarize } from '../../src/core/eval/evalSummary';
import { makeThumbnails, renderReport, thumbnailSize } from '../../src/core/eval/report';
import { scratch, stemFixtures } from '../support/paths';
import { launchChromium } from '../support/chromium.mjs';


describe('report.html', () => {
  let dir: string;
  let dispose: () => void;
  let renderer: Renderer;
  let browser: Browser;
  let records: EvalRecord[];
  let reportUrl: string;
  const hostileId = '<img src=x onerror="window.pwned=1">';

  before(async () => {
    ({ dir, dispose } = scratch('refigure-report-'));
    renderer = await createRenderer({ concurrency: 2 });
    const items = (await loadDataset(stemFixtures)).filter((i) => /^(algebra--image310|plane-geometry--image206|puzzle-test--image196|arithmetic--image25)\.png$/.test(i.id));
    assert.equal(items.length, 4);
    records = await runEvaluation({ items, outDir: dir, renderer, concurrency: 2 });
    const failed = records[0] as EvalRecord;
    // A failed item with hostile text in every field the report shows.
    records.push({
      ...failed,
      id: hostileId,
      status: 'failed',
      metrics: null,
      png: null,
      diff: null,
      code: 'print("</pre><b id=injected>bold</b>")',
      caption: '</td><script>window.pwned=2</script>',
      error: '<i id=injected2>oops</i> & more',
    });
    const summary = summarize(records, { dataset: stemFixtures, items: records.length, settings: { note: '<script>window.pwned=3</script>' } });
    const html = renderReport(summary, records, await makeThumbnails(records, dir, renderer));
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    reportUrl = pathToFileURL(file).href;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await renderer?.close();
    dispose();
  });

  test('every row has its thumbnails, figures and code; hostile values stay text', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    await page.goto(reportUrl);
    const rows = await page.$$eval('#items tbody tr', (trs) =>
      trs.map((tr) => ({
        id: tr.getAttribute('data-id'),
        images: Array.from(tr.querySelectorAll('img')).map((img) => {
          const { naturalWidth, naturalHeight } = img as unknown as { naturalWidth: number; naturalHeight: number };
          return { w: naturalWidth, h: naturalHeight };
        }),
        fidelity: tr.cells[4]?.textContent ?? '',
        code: tr.querySelector('pre code')?.textContent ?? '',
      })),
    );
    assert.equal(rows.length, records.length);
    for (const record of records) {
      const row = rows.find((r) => r.id === record.id);
      assert.ok(row, `a row for ${record.id}`);
      assert.equal(row.fidelity, record.metrics ? record.metrics.fidelity.toFixed(3) : '–');
      // Long code (an offline trace) is cut in the report; the whole of it is in results.jsonl.
      const cut = /\n# … (\d+) more characters in results\.jsonl$/.exec(row.code);
      if (cut) {
        assert.equal(row.code.slice(0, cut.index) + record.code.slice(cut.index), record.code, 'the report shows the start of the code');
        assert.equal(Number(cut[1]), record.code.length - cut.index, 'and says how much is left out');
      }
      else assert.equal(row.code, record.code);
      const expectedImages = record.metrics ? 3 : 1;
      assert.equal(row.images.length, expectedImages, record.id);
      for (const img of row.images) {
        assert.ok(img.w > 0 && img.h > 0, 'the thumbnail decodes');
        assert.ok(Math.max(img.w, img.h) <= thumbnailSize);
      }
    }
    assert.equal(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned), undefined);
    assert.equal(await page.locator('script').count(), 1);
    assert.equal(await page.locator('#injected, #injected2').count(), 0);
    assert.ok((await page.textContent('body'))?.includes('</td><script>window.pwned=2</script>'));
    assert.deepEqual(problems, [], 'no script or CSP errors');
    await page.close();
  });

  test('clicking the fidelity header sorts by fidelity, descending then ascending, unrendered last', async () => {
    const page = await browser.newPage();
    await page.goto(reportUrl);
    const order = () => page.$$eval('#items tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-id') ?? ''));
    const byFidelity = (dir: 1 | -1) => [
      ...records
        .filter((r) => r.metrics)
        .sort((a, b) => dir * ((a.metrics?.fidelity ?? 0) - (b.metrics?.fidelity ?? 0)))
        .map((r) => r.id),
      ...records.filter((r) => !r.metrics).map((r) => r.id),
    ];
    await page.click('#sort-fidelity');
    assert.deepEqual(await order(), byFidelity(-1));
    assert.equal(await page.getAttribute('#sort-fidelity', 'aria-sort'), 'descending');
    await page.click('#sort-fidelity');
    assert.deepEqual(await order(), byFidelity(1));
    await page.close();
  });
});
