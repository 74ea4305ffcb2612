// The redraw as SVG or PDF for papers: saved by matplotlib in the sandbox, reproducible, and checked before it is
// written, because the code that draws it is the model's: a vector file that would act (script, handler, link,
// PDF action) is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Renderer } from '../../src/core/types';
import { createRenderer } from '../../src/core/render/render';
import { checkVector } from '../../src/core/render/renderFiles';
import { RefigureError } from '../../src/core/errors';
import { scratch } from '../support/paths';

const figure = `
import numpy as np
import matplotlib.pyplot as plt
fig, (a, b) = plt.subplots(1, 2, figsize=(6, 3))
a.plot([0, 1, 2], [0, 1, 4], label=r"$y = x^2$")
a.set_title("onset = 5, see javascript: notes")
a.legend()
b.imshow(np.arange(16).reshape(4, 4))
b.annotate("peak", xy=(3, 3), xytext=(1, 1), arrowprops={"arrowstyle": "->"})
`;

const refusedAs = (pattern: RegExp) => (error: unknown) => error instanceof RefigureError && pattern.test(error.message);

describe('vector export', () => {
  let renderer: Renderer;
  const out = scratch('refigure-export-');
  before(async () => {
    renderer = await createRenderer();
  });
  after(async () => {
    await renderer.close();
    out.dispose();
  });

  test('SVG and PDF are what matplotlib saves, the same bytes every time, with text, mathtext and an image inside', async () => {
    for (const format of ['svg', 'pdf'] as const) {
      const first = await renderer.render({ code: figure, outDir: out.dir, stem: `first-${format}`, export: format });
      const second = await renderer.render({ code: figure, outDir: out.dir, stem: `second-${format}`, export: format });
      assert.equal(first.ok, true, JSON.stringify(first.error));
      assert.ok(first.export && second.export, `${format}: ${first.exportError}`);
      assert.equal(first.export, `${out.dir}/first-${format}.${format}`);
      const bytes = readFileSync(first.export);
      assert.ok(bytes.equals(readFileSync(second.export)), `${format}: two saves of the same code differ`);
      if (format === 'svg') {
        const text = bytes.toString('utf8');
        assert.match(text, /^<\?xml/);
        assert.match(text, /<svg[\s>]/);
        assert.match(text, /data:image\/png;base64,/, 'the imshow is embedded');
        assert.match(text, /onset = 5/, 'the title is in the file (as a comment beside its glyphs)');
      } else {
        assert.equal(bytes.toString('latin1', 0, 5), '%PDF-');
      }
      // The PNG render is made as always beside it.
      assert.ok(first.png && readFileSync(first.png).length > 1000);
    }
  });

  test('an SVG whose saving the code rewrote to carry a handler is refused; the PNG render stands', async () => {
    const code = `${figure}
from matplotlib.backends import backend_svg
def forged(self, filename, **kwargs):
    data = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="fetch(1)"><rect width="9" height="9"/></svg>'
    if hasattr(filename, "write"):
        filename.write(data)
backend_svg.FigureCanvasSVG.print_svg = forged
`;
    const outcome = await renderer.render({ code, outDir: out.dir, stem: 'forged-svg', export: 'svg' });
    assert.equal(outcome.ok, true, JSON.stringify(outcome.error));
    assert.equal(outcome.export, undefined);
    assert.match(outcome.exportError ?? '', /SVG export contains onload; it was not written/);
  });

  test('a PDF with an action the code added is refused', async () => {
    const code = `${figure}
from matplotlib.backends import backend_pdf
def forged(self, filename, **kwargs):
    data = b"%PDF-1.4\\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\\ntrailer << /Root 1 0 R >>\\n%%EOF\\n"
    filename.write(data)
backend_pdf.FigureCanvasPdf.print_pdf = forged
`;
    const outcome = await renderer.render({ code, outDir: out.dir, stem: 'forged-pdf', export: 'pdf' });
    assert.equal(outcome.ok, true, JSON.stringify(outcome.error));
    assert.equal(outcome.export, undefined);
    assert.match(outcome.exportError ?? '', /PDF export carries \/(OpenAction|JavaScript|JS)/);
  });

  test('code that cannot be saved as PDF still renders; the export says why it is missing', async () => {
    const code = `${figure}
from matplotlib.backends import backend_pdf
def broken(self, *args, **kwargs):
    raise RuntimeError("no PDF today")
backend_pdf.FigureCanvasPdf.print_pdf = broken
`;
    const outcome = await renderer.render({ code, outDir: out.dir, stem: 'broken-pdf', export: 'pdf' });
    assert.equal(outcome.ok, true);
    assert.match(outcome.exportError ?? '', /could not be saved as PDF: RuntimeError: no PDF today/);
  });
});

test('checkVector: what a figure has passes, what acts or reaches out is named', () => {
  const svg = (body: string, head = '') => Buffer.from(`<?xml version="1.0" encoding="utf-8" standalone="no"?>\n${head}<svg xmlns:xlink="http://www.w3.org/1999/xlink" xmlns="http://www.w3.org/2000/svg">${body}</svg>`);
  const passes = [
    svg('<style type="text/css">*{stroke-linecap: butt}</style><defs><path id="m1" d="M 0 0"/></defs><use xlink:href="#m1" clip-path="url(#p2)"/>'),
    svg('<!-- onclick = 5; javascript: --><text>javascript: onload = 1</text>', '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'),
    svg('<image xlink:href="data:image/png;base64,iVBORw0KGgo+onAB=" width="4" height="4"/>'),
  ];
  for (const bytes of passes) assert.doesNotThrow(() => checkVector(bytes, 'svg'), bytes.toString());
  const refused: [Buffer, RegExp][] = [
    [Buffer.from('<html><svg></svg></html>'), /is not an SVG/],
    [svg('<script>alert(1)</script>'), /contains script/],
    [svg('<foreignObject><div/></foreignObject>'), /contains foreignObject/],
    [svg('<rect onmouseover="x()"/>'), /contains onmouseover/],
    [svg('<a xlink:href="https://example.com/track"><rect/></a>'), /contains href="/],
    [svg('<a href="javascript:alert(1)"><rect/></a>'), /contains javascript:/],
    [svg('<rect style="fill: url(https://example.com/x)"/>'), /contains url\(/],
    [svg('<style>@import "https://example.com/x.css";</style>'), /contains @import/],
    [svg('<set attributeName="href" to="x"/>'), /contains set/],
  ];
  for (const [bytes, pattern] of refused) assert.throws(() => checkVector(bytes, 'svg'), refusedAs(pattern), bytes.toString());
  assert.throws(() => checkVector(Buffer.from('GIF89a'), 'pdf'), refusedAs(/is not a PDF/));
  const pdf = (objects: string) => Buffer.from(`%PDF-1.4\n${objects}\ntrailer << /Root 1 0 R >>\n%%EOF\n`, 'latin1');
  assert.doesNotThrow(() => checkVector(pdf('1 0 obj << /Type /Catalog >> endobj\n2 0 obj << /Length 9 >>\nstream\n/JS /AA x\nendstream\nendobj'), 'pdf'));
  for (const [objects, name] of [
    ['1 0 obj << /Type /Catalog /OpenAction 3 0 R >> endobj', 'OpenAction'],
    ['3 0 obj << /S /Launch /F (calc.exe) >> endobj', 'Launch'],
    ['4 0 obj << /Type /Annot /A << /S /URI /URI (https://example.com) >> >> endobj', 'URI'],
    ['5 0 obj << /Type /ObjStm /N 1 >>\nstream\nx\nendstream endobj', 'ObjStm'],
  ] as const) {
    assert.throws(() => checkVector(pdf(objects), 'pdf'), refusedAs(new RegExp(`carries /${name}`)), objects);
  }
});
