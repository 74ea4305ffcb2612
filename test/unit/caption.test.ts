// The code-grounded caption: what the request carries, how replies are read, and a round trip over real HTTP.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildCaptionMessages, parseCaptionReply, requestCaption } from '../../src/core/reconstruct/caption';
import { RefigureError } from '../../src/core/errors';
import { createModelClient } from '../../src/core/reconstruct/model';
import type { ChatContent, ModelImage } from '../../src/core/types';
import { chartFixtures } from '../support/paths';
import { startScriptedServer } from '../support/scriptedServer';

// Any real chart will do; the first in name order keeps the choice stable.
const chartName = readdirSync(chartFixtures)
  .filter((f) => f.endsWith('.png'))
  .sort()[0];
assert.ok(chartName, `a PNG in ${chartFixtures}`);
const fixture = join(chartFixtures, chartName);

const image: ModelImage = {
  dataUrl: `data:image/png;base64,${readFileSync(fixture).toString('base64')}`,
  mediaType: 'image/png',
  width: 0,
  height: 0,
  resized: false,
};

const code = [
  'import matplotlib.pyplot as plt',
  'fig, ax = plt.subplots(figsize=(6, 4))',
  "ax.bar(['A', 'B', 'C'], [3, 7, 5], color='#1f77b4')",
  "ax.set_title('Sales by region')",
  "ax.set_ylabel('Units (thousands)')",
].join('\n');

function userParts(style: 'alt' | 'caption' | 'detailed'): { text: string; images: string[] } {
  const messages = buildCaptionMessages({ image, code, style });
  const user = messages.find((m) => m.role === 'user');
  assert.ok(user && Array.isArray(user.content));
  const parts = user.content as ChatContent[];
  return {
    text: parts.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n'),
    images: parts.flatMap((p) => (p.type === 'image_url' ? [p.image_url.url] : [])),
  };
}

describe('buildCaptionMessages', () => {
  it('sends the image and the code that rendered', () => {
    const { text, images } = userParts('caption');
    assert.deepEqual(images, [image.dataUrl]);
    assert.ok(text.includes(code), 'the whole code is in the request');
    assert.match(text, /```python\n/);
    assert.match(text, /Caption:/);
    assert.match(text, /Alt text:/);
  });

  it('asks for a different shape per style', () => {
    const alt = userParts('alt').text;
    const caption = userParts('caption').text;
    const detailed = userParts('detailed').text;
    assert.match(alt, /one or two sentences/);
    assert.match(caption, /paragraph/);
    assert.match(detailed, /Coordinate system:/);
    assert.notEqual(alt, caption);
    assert.notEqual(caption, detailed);
  });

  it('cuts very long code', () => {
    const long = `${code}\n${'data = [0.0] * 10\n'.repeat(5000)}`;
    const messages = buildCaptionMessages({ image, code: long, style: 'alt' });
    const size = JSON.stringify(messages).length;
    assert.ok(size < long.length + image.dataUrl.length, 'the request does not carry all of a huge script');
    assert.ok(JSON.stringify(messages).includes('# … (cut)'));
  });
});

describe('parseCaptionReply', () => {
  it('reads the Caption / Alt text format', () => {
    const reply = 'Caption: A bar chart of sales in three regions, A (3), B (7) and C (5).\nIts y axis is in thousands of units.\n\nAlt text: Bar chart of sales by region, highest in B.';
    assert.deepEqual(parseCaptionReply(reply), {
      caption: 'A bar chart of sales in three regions, A (3), B (7) and C (5).\nIts y axis is in thousands of units.',
      altText: 'Bar chart of sales by region, highest in B.',
    });
  });

  it('reads bold and heading labels, any case, and quotes', () => {
    const reply = '**Caption:** "Two circles of radius 1 and 2 share the centre O."\n\n**Alt-text:** Two concentric circles.';
    assert.deepEqual(parseCaptionReply(reply), { caption: 'Two circles of radius 1 and 2 share the centre O.', altText: 'Two concentric circles.' });
    const heading = '## Caption\n\n## caption: A right triangle ABC.\n\n### ALT TEXT: Triangle ABC.';
    assert.equal(parseCaptionReply(heading).altText, 'Triangle ABC.');
    assert.equal(parseCaptionReply(heading).caption, 'A right triangle ABC.');
  });

  it('keeps a detailed multi-line caption whole', () => {
    const reply = 'Caption:\nOverview: a line plot.\nCoordinate system: x from 0 to 10.\nElements: 2 lines.\n\nLabels and values: y = x^2.\nAlt text: A line plot of two curves.';
    const parsed = parseCaptionReply(reply);
    assert.equal(parsed.caption, 'Overview: a line plot.\nCoordinate system: x from 0 to 10.\nElements: 2 lines.\n\nLabels and values: y = x^2.');
    assert.equal(parsed.altText, 'A line plot of two curves.');
  });

  it('falls back to the whole reply and its first sentence', () => {
    const reply = 'The figure shows f(x) = 2.5x + 1 on [0, 4]. The line crosses the y axis at 1. A dashed grid is drawn.';
    assert.deepEqual(parseCaptionReply(reply), { caption: reply, altText: 'The figure shows f(x) = 2.5x + 1 on [0, 4].' });
  });

  it('uses the alt text as caption when only alt text came back, and the text before it otherwise', () => {
    assert.deepEqual(parseCaptionReply('Alt text: A unit circle.'), { caption: 'A unit circle.', altText: 'A unit circle.' });
    assert.deepEqual(parseCaptionReply('A unit circle centred at the origin.\nAlt text: A unit circle.'), {
      caption: 'A unit circle centred at the origin.',
      altText: 'A unit circle.',
    });
  });

  it('ignores a reasoning section', () => {
    const parsed = parseCaptionReply('<think>Caption: wrong guess. Alt text: wrong.</think>\nCaption: A parabola.\nAlt text: Parabola.');
    assert.deepEqual(parsed, { caption: 'A parabola.', altText: 'Parabola.' });
  });
});

describe('requestCaption', { timeout: 20_000 }, () => {
  it('round-trips over HTTP with the image and the code in the request', async () => {
    const server = await startScriptedServer([
      { reply: 'Caption: A bar chart titled "Sales by region" with three bars: A = 3, B = 7, C = 5.\nAlt text: Bar chart of sales by region.', usage: { prompt_tokens: 900, completion_tokens: 30 } },
    ]);
    try {
      const client = createModelClient({ baseURL: server.url, model: 'm' });
      const seen: string[] = [];
      const result = await requestCaption(client, { image, code, style: 'caption', onDelta: (text) => seen.push(text) });
      assert.equal(result.caption, 'A bar chart titled "Sales by region" with three bars: A = 3, B = 7, C = 5.');
      assert.equal(result.altText, 'Bar chart of sales by region.');
      assert.deepEqual(result.usage, { promptTokens: 900, completionTokens: 30 });
      assert.ok(seen.length > 1);
      const body = JSON.stringify(server.chatRequests()[0]?.body);
      assert.ok(body.includes(JSON.stringify(code).slice(1, -1)), 'the code is in the request');
      assert.ok(body.includes(image.dataUrl), 'the image is in the request');
    } finally {
      await server.close();
    }
  });

  it('rejects an empty reply with an endpoint error', async () => {
    const server = await startScriptedServer([{ reply: '   ' }]);
    try {
      const client = createModelClient({ baseURL: server.url, model: 'm' });
      await assert.rejects(
        requestCaption(client, { image, code, style: 'alt' }),
        (error: unknown) => error instanceof RefigureError && error.kind === 'endpoint' && /empty caption/.test(error.message),
      );
    } finally {
      await server.close();
    }
  });
});
