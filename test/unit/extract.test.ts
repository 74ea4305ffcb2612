// Taking the code out of model replies as real models write them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exitCodeFor, RefigureError } from '../../src/core/errors';
import { extractCode, requireCode } from '../../src/core/reconstruct/extract';

const fence = '```';

describe('extractCode', () => {
  it('takes the python block out of prose', () => {
    const reply = `Sure! Here is the code.\n\n${fence}python\nimport matplotlib.pyplot as plt\nplt.plot([0, 1])\n${fence}\n\nThis draws a line.`;
    assert.equal(extractCode(reply), 'import matplotlib.pyplot as plt\nplt.plot([0, 1])\n');
  });

  it('accepts py, python3 and any letter case as the label', () => {
    for (const label of ['py', 'python3', 'Python', 'PYTHON', 'Py', 'python title="fig.py"']) {
      assert.equal(extractCode(`${fence}${label}\nx = 1\n${fence}`), 'x = 1\n', label);
    }
  });

  it('prefers a python block over an earlier bare block', () => {
    const reply = `Output:\n${fence}\nnot code\n${fence}\n${fence}python\nreal = True\n${fence}`;
    assert.equal(extractCode(reply), 'real = True\n');
  });

  it('takes the first python block when there are several', () => {
    const reply = `${fence}python\nfirst = 1\n${fence}\nor\n${fence}python\nsecond = 2\n${fence}`;
    assert.equal(extractCode(reply), 'first = 1\n');
  });

  it('falls back to the first bare block', () => {
    const reply = `${fence}\nimport numpy as np\n${fence}\n${fence}\nother\n${fence}`;
    assert.equal(extractCode(reply), 'import numpy as np\n');
  });

  it('never takes a block labelled with another language', () => {
    assert.equal(extractCode(`${fence}json\n{"a": 1}\n${fence}`), undefined);
    assert.equal(extractCode(`${fence}bash\npip install matplotlib\n${fence}`), undefined);
    assert.equal(extractCode(`${fence}json\n{"a": 1}\n${fence}\n${fence}\nplain = 1\n${fence}`), 'plain = 1\n');
  });

  it('never takes inline text or a reply without fences', () => {
    assert.equal(extractCode('import matplotlib.pyplot as plt\nplt.plot([1, 2])'), undefined);
    assert.equal(extractCode(`Use ${fence}plt.plot()${fence} to draw it.`), undefined);
    assert.equal(extractCode('Call `plt.plot(x, y)` and you are done.'), undefined);
    assert.equal(extractCode(''), undefined);
  });

  it('takes the rest of the reply after an unterminated final fence (cut at max_tokens)', () => {
    const reply = `Here:\n${fence}python\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2`;
    assert.equal(extractCode(reply), 'import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2\n');
  });

  it('does not close a block at a shorter fence inside it, and closes at a longer one', () => {
    const reply = `${fence}\`python\ns = """\n${fence}\n"""\n${fence}\`\`\nafter`;
    assert.equal(extractCode(reply), `s = """\n${fence}\n"""\n`);
  });

  it('handles CRLF line ends and an indented fence', () => {
    assert.equal(extractCode(`Code:\r\n${fence}python\r\nx = 1\r\ny = 2\r\n${fence}\r\n`), 'x = 1\ny = 2\n');
    assert.equal(extractCode(`1. Run this:\n   ${fence}python\n   x = 1\n       y = 2\n   ${fence}`), 'x = 1\n    y = 2\n');
  });

  it('skips an empty python block', () => {
    assert.equal(extractCode(`${fence}python\n\n${fence}\n${fence}python\nz = 3\n${fence}`), 'z = 3\n');
  });

  it('accepts a python fence opened at the end of a prose line', () => {
    assert.equal(extractCode(`Here is the code: ${fence}python\nx = 1\n${fence}`), 'x = 1\n');
  });

  it("prefers the answer after a reasoning model's <think> section", () => {
    const reply = `<think>\nMaybe:\n${fence}python\ndraft = 1\n${fence}\n</think>\nFinal:\n${fence}python\nfinal = 2\n${fence}`;
    assert.equal(extractCode(reply), 'final = 2\n');
    assert.equal(extractCode(`<think>\n${fence}python\nonly = 1\n${fence}\n</think>\nDone.`), 'only = 1\n');
  });
});

describe('requireCode', () => {
  it('returns the code when there is some', () => {
    assert.equal(requireCode(`${fence}python\nx = 1\n${fence}`), 'x = 1\n');
  });

  it('throws an endpoint error that shows the start of the reply', () => {
    const reply = `I cannot help with that image. ${'It is too blurry to read. '.repeat(30)}`;
    assert.throws(
      () => requireCode(reply),
      (error: unknown) => {
        assert.ok(error instanceof RefigureError);
        assert.equal(error.kind, 'endpoint');
        assert.equal(exitCodeFor(error), 3);
        assert.equal(error.message, 'The model replied without code.');
        assert.match(error.hint ?? '', /^Its reply began: "I cannot help with that image\. It is too blurry/);
        const shown = /"(.*)"/.exec(error.hint ?? '')?.[1] ?? '';
        assert.ok(shown.length <= 301 && shown.endsWith('…'), `shows about 300 characters, got ${shown.length}`);
        return true;
      },
    );
  });

  it('says so when the reply was empty', () => {
    assert.throws(() => requireCode('  \n'), (error: unknown) => error instanceof RefigureError && /reply was empty/.test(error.hint ?? ''));
  });

  it('does not count a json block as code', () => {
    assert.throws(() => requireCode(`${fence}json\n{"plot": true}\n${fence}`), (error: unknown) => error instanceof RefigureError && /\{"plot": true\}/.test(error.hint ?? ''));
  });
});
