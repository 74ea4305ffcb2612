// The eval run's report.html: one self-contained file with thumbnails, figures, code and captions, sortable by fidelity.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Renderer } from '../types';
import type { EvalRecord } from './evalRun';
import type { EvalSummary } from './evalSummary';
import { readImage } from '../reconstruct/input';
import { escapeHtml } from '../html';

export { escapeHtml };

export interface Thumbnails {
  original?: string;
  render?: string;
  diff?: string;
}

/** Long side of the thumbnails embedded in the report, in pixels. */
export const thumbnailSize = 240;
/** Code longer than this is cut in the report (the full code is in results.jsonl). */
const maxCodeChars = 12_000;

/** Downscaled PNG data URLs of each record's original, render and diff, made with the render service's converter. */
export async function makeThumbnails(
  records: readonly EvalRecord[],
  outDir: string,
  renderer: Pick<Renderer, 'convertImage'>,
  signal?: AbortSignal,
): Promise<Map<string, Thumbnails>> {
  const scratch = await mkdtemp(join(tmpdir(), 'refigure-thumbs-'));
  const thumbs = new Map<string, Thumbnails>();
  let n = 0;
  const one = async (input: string): Promise<string | undefined> => {
    const output = join(scratch, `t${n++}.png`);
    try {
      const info = await readImage(input);
      const scale = Math.min(1, thumbnailSize / Math.max(info.width, info.height));
      await renderer.convertImage({
        input,
        output,
        format: 'png',
        width: Math.max(1, Math.round(info.width * scale)),
        height: Math.max(1, Math.round(info.height * scale)),
        signal,
      });
      return `data:image/png;base64,${(await readFile(output)).toString('base64')}`;
    } catch {
      // A missing or unreadable file leaves an empty cell rather than no report.
      return undefined;
    } finally {
      await rm(output, { force: true });
    }
  };
  try {
    // All at once: the render service spreads the conversions over its workers.
    const made = await Promise.all(
      records.map(async (record) => {
        const [original, render, diff] = await Promise.all([
          one(record.image),
          record.png ? one(join(outDir, record.png)) : undefined,
          record.diff ? one(join(outDir, record.diff)) : undefined,
        ]);
        return [record.id, { original, render, diff }] as const;
      }),
    );
    for (const [id, thumb] of made) thumbs.set(id, thumb);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return thumbs;
}


// Sorts the table's rows by a column's data-value; numbers compare numerically, blanks last.
const sortScript = `(() => {
  const table = document.getElementById('items');
  const body = table.tBodies[0];
  for (const th of table.querySelectorAll('th[data-sort]')) {
    th.addEventListener('click', () => {
      const col = th.cellIndex;
      const numeric = th.dataset.sort === 'number';
      const dir = th.getAttribute('aria-sort') === 'descending' ? 1 : -1;
      for (const other of table.querySelectorAll('th[data-sort]')) other.removeAttribute('aria-sort');
      th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
      const key = (row) => row.cells[col].dataset.value ?? '';
      const rows = Array.from(body.rows);
      rows.sort((a, b) => {
        const x = key(a), y = key(b);
        if (x === '' || y === '') return x === y ? 0 : x === '' ? 1 : -1;
        return numeric ? dir * (Number(x) - Number(y)) : dir * x.localeCompare(y);
      });
      for (const row of rows) body.appendChild(row);
    });
  }
})();`;

const style = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1b1b1b; background: #fff; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ddd; padding: 4px 8px; vertical-align: top; text-align: left; }
th[data-sort] { cursor: pointer; user-select: none; background: #f4f4f4; }
th[aria-sort=descending]::after { content: ' ▼'; } th[aria-sort=ascending]::after { content: ' ▲'; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: ${thumbnailSize}px; max-height: ${thumbnailSize}px; border: 1px solid #eee; background: #fff; }
pre { max-width: 640px; max-height: 320px; overflow: auto; background: #f7f7f7; padding: 6px; font-size: 12px; }
.status-failed, .status-timeout, .status-error { color: #b00020; }
.summary td:first-child { font-weight: 600; }
.md { white-space: pre; max-width: none; }
td.detail { min-width: 320px; max-width: 660px; }
`;

/** The whole report as one HTML document; every value from the run is escaped. */
export function renderReport(summary: EvalSummary, records: readonly EvalRecord[], thumbs: ReadonlyMap<string, Thumbnails> = new Map()): string {
  const f3 = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(3));
  const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
  const scriptHash = createHash('sha256').update(sortScript).digest('base64');
  const styleHash = createHash('sha256').update(style).digest('base64');
  const csp = `default-src 'none'; img-src data:; style-src 'sha256-${styleHash}'; script-src 'sha256-${scriptHash}'`;

  const summaryRows: [string, string][] = [
    ['Data set', summary.dataset],
    ['Model', `${summary.model} (${summary.provider})`],
    ['Items', `${summary.evaluated} evaluated of ${summary.items}${summary.execution.errors ? `, ${summary.execution.errors} not evaluated (errors)` : ''}`],
    ['Execution rate', `${pct(summary.execution.rate)} (first answer: ${pct(summary.execution.firstAnswerRate)}); ${summary.execution.timeouts} timed out`],
    ['Fidelity (rendered)', `mean ${f3(summary.fidelity.mean)}, median ${f3(summary.fidelity.median)}, p10 ${f3(summary.fidelity.p10)}, p90 ${f3(summary.fidelity.p90)}`],
    ['Fidelity (fail = 0)', f3(summary.fidelityAll)],
    ['SSIM / edge F1 / pixel match / colour distance', `${f3(summary.ssim.mean)} / ${f3(summary.edgeF1.mean)} / ${f3(summary.pixelMatch.mean)} / ${f3(summary.colorDistance.mean)}`],
    ['Text F1 / text differences per item / difference regions per item', `${f3(summary.textF1?.mean ?? null)} / ${f3(summary.differences?.text ?? null)} / ${f3(summary.differences?.ink ?? null)}`],
    ['Rounds', `${summary.rounds.total} in all, ${f3(summary.rounds.mean)} per item`],
    ['Tokens', `${summary.tokens.prompt} prompt + ${summary.tokens.completion} completion`],
    ['Seconds per item', `mean ${f3(summary.seconds.mean)}, median ${f3(summary.seconds.median)}`],
  ];
  if (summary.judge) {
    summaryRows.push(['Judge score', `${summary.judge.model}: mean ${f3(summary.judge.score.mean)} over ${summary.judge.judged} judged; ${f3(summary.judge.scoreAll)} with failures as 0`]);
  }
  for (const [key, value] of Object.entries(summary.settings)) summaryRows.push([`Setting: ${key}`, String(value)]);

  const comparison = summary.comparison;
  const compared = new Map(comparison?.rows.map((r) => [r.id, r]) ?? []);
  const judged = summary.judge !== undefined;

  const head = [
    `<th data-sort="text">Item</th>`,
    `<th>Original</th><th>Render</th><th>Difference</th>`,
    `<th data-sort="number" id="sort-fidelity">Fidelity</th>`,
    `<th data-sort="number">SSIM</th><th data-sort="number">Edge F1</th><th data-sort="number">Pixel match</th><th data-sort="number">Colour dist.</th><th data-sort="number">Text F1</th><th data-sort="number">Text diffs</th>`,
    judged ? `<th data-sort="number">Judge</th>` : '',
    comparison ? `<th data-sort="number">Δ vs other</th>` : '',
    `<th data-sort="number">Rounds</th><th data-sort="number">Seconds</th><th data-sort="text">Status</th><th>Code and caption</th>`,
  ].join('');

  const rows = records.map((r) => {
    const t = thumbs.get(r.id) ?? {};
    const img = (src: string | undefined, alt: string) => (src && src.startsWith('data:image/') ? `<img src="${escapeHtml(src)}" alt="${escapeHtml(alt)}">` : '');
    const num = (v: number | null | undefined) => `<td class="num" data-value="${v === null || v === undefined ? '' : escapeHtml(v)}">${f3(v)}</td>`;
    const m = r.metrics;
    const judge = r.judge && 'score' in r.judge ? r.judge.score : null;
    const delta = compared.get(r.id)?.delta ?? null;
    const code = r.code.length > maxCodeChars ? `${r.code.slice(0, maxCodeChars)}\n# … ${r.code.length - maxCodeChars} more characters in results.jsonl` : r.code;
    const details = [
      r.error ? `<p class="status-failed">${escapeHtml(r.error)}</p>` : '',
      r.caption ? `<p>${escapeHtml(r.caption)}</p>` : '',
      r.judge && 'error' in r.judge ? `<p class="status-failed">Judge: ${escapeHtml(r.judge.error)}</p>` : '',
      code ? `<details><summary>Code (${escapeHtml(r.code.split('\n').length)} lines)</summary><pre><code>${escapeHtml(code)}</code></pre></details>` : '',
    ].join('');
    return [
      `<tr data-id="${escapeHtml(r.id)}">`,
      `<td data-value="${escapeHtml(r.id)}">${escapeHtml(r.id)}</td>`,
      `<td>${img(t.original, `original ${r.id}`)}</td><td>${img(t.render, `render ${r.id}`)}</td><td>${img(t.diff, `difference ${r.id}`)}</td>`,
      num(m?.fidelity),
      num(m?.ssim),
      num(m?.edgeF1),
      num(m?.pixelMatch),
      num(m?.colorDistance),
      num(m?.textF1),
      num(r.differences?.text),
      judged ? num(judge) : '',
      comparison ? num(delta) : '',
      `<td class="num" data-value="${escapeHtml(r.rounds)}">${escapeHtml(r.rounds)}</td>`,
      num(r.seconds),
      `<td data-value="${escapeHtml(r.status)}" class="status-${escapeHtml(r.status)}">${escapeHtml(r.status)}</td>`,
      `<td class="detail">${details}</td>`,
      '</tr>',
    ].join('');
  });

  const comparisonHtml = comparison
    ? `<h2>Compared with ${escapeHtml(comparison.otherModel)} (${escapeHtml(comparison.other)})</h2>
<p>${escapeHtml(`${comparison.common} common items: ${comparison.wins} wins, ${comparison.losses} losses, ${comparison.ties} ties (margin ${comparison.margin}); mean Δ fidelity ${f3(comparison.meanDelta)}; rendered ${comparison.execution.ours} vs ${comparison.execution.theirs}.`)}</p>`
    : '';

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`Refigure eval — ${summary.model} on ${summary.dataset}`)}</title>
<style>${style}</style>
</head>
<body>
<h1>${escapeHtml(`Refigure eval — ${summary.model}`)}</h1>
<table class="summary"><tbody>
${summaryRows.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`).join('\n')}
</tbody></table>
<h2>Markdown</h2>
<pre class="md">${escapeHtml(summary.markdown)}</pre>
${comparisonHtml}
<h2>Items</h2>
<p>Click a column header to sort. Difference map: red = missing from the render, blue = extra in the render, orange = different colour.</p>
<table id="items">
<thead><tr>${head}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
<script>${sortScript}</script>
</body>
</html>
`;
}
