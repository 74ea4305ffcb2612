// Reading, checking and model-encoding images: bad and odd files, real fixtures, smart resize.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RefigureError } from '../../src/core/errors';
import { MAX_MODEL_PIXELS, prepareForModel, readImage, smartResize } from '../../src/core/reconstruct/input';
import type { ImageInfo } from '../../src/core/types';
import { createRenderer, type RenderService } from '../../src/core/render/render';
import { pillowSizes, pythonPath, rgbaPixels } from '../fixtures/images/helpers';
import { chartFixtures, repoRoot, scratch, stemFixtures } from '../support/paths';

const images = join(repoRoot, 'test', 'fixtures', 'images');
const img = (name: string): string => join(images, name);
const work = scratch('refigure-input-');
after(() => work.dispose());

let converter: RenderService;
before(async () => {
  converter = await createRenderer();
});
after(async () => {
  await converter.close();
});

async function rejectsInput(promise: Promise<unknown>, pattern: RegExp): Promise<RefigureError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RefigureError, `expected a RefigureError, got ${String(error)}`);
    assert.equal(error.kind, 'input');
    assert.match(error.message, pattern);
    assert.ok(error.hint && error.hint.length > 10, 'a hint says what to do');
    return error;
  }
  assert.fail(`expected a rejection matching ${pattern}`);
}

function dataUrlBytes(dataUrl: string): Buffer {
  const comma = dataUrl.indexOf(',');
  return Buffer.from(dataUrl.slice(comma + 1), 'base64');
}

/** Writes a data URL's bytes to scratch and reads them back through readImage: what the model will see. */
async function sentImage(dataUrl: string, name: string): Promise<ImageInfo> {
  const path = join(work.dir, name);
  writeFileSync(path, dataUrlBytes(dataUrl));
  return readImage(path);
}

function cut(name: string, keep: number | ((length: number) => number)): string {
  const bytes = readFileSync(img(name));
  const n = typeof keep === 'number' ? keep : keep(bytes.length);
  const path = join(work.dir, `cut-${n}-${name}`);
  writeFileSync(path, bytes.subarray(0, n));
  return path;
}

describe('readImage refuses bad files with a clear message', () => {
  it('missing file', async () => {
    await rejectsInput(readImage(join(images, 'no-such-figure.png')), /^No file at .*no-such-figure\.png\.$/);
  });

  it('a folder', async () => {
    await rejectsInput(readImage(images), /is a folder/);
  });

  it('zero bytes', async () => {
    await rejectsInput(readImage(img('empty.png')), /is empty \(0 bytes\)/);
  });

  it('text named .png: says what the bytes look like and that the extension does not decide', async () => {
    const error = await rejectsInput(readImage(img('not-an-image.png')), /plain text/);
    assert.match(error.message, /extension does not decide/);
  });

  it('a PDF named .png', async () => {
    const path = join(work.dir, 'paper.png');
    writeFileSync(path, '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n');
    await rejectsInput(readImage(path), /PDF document/);
  });

  it('truncated PNG (no IEND) and PNG cut inside its header', async () => {
    await rejectsInput(readImage(img('truncated.png')), /truncated/);
    await rejectsInput(readImage(img('truncated-header.png')), /truncated.*header/);
  });

  it('truncated JPEG, GIF, BMP and WebP', async () => {
    await rejectsInput(readImage(cut('exif-rotated.jpg', (n) => n - 200)), /truncated/);
    await rejectsInput(readImage(cut('animated.gif', (n) => n - 20)), /truncated/);
    await rejectsInput(readImage(cut('figure.bmp', (n) => Math.floor(n / 2))), /truncated/);
    await rejectsInput(readImage(cut('lossy.webp', (n) => n - 100)), /truncated/);
    await rejectsInput(readImage(cut('exif-rotated.jpg', 3)), /truncated|not an image/);
  });

  it('decompression bomb: a tiny PNG declaring 60000×60000 pixels', async () => {
    assert.ok(readFileSync(img('bomb.png')).length < 4096);
    await rejectsInput(readImage(img('bomb.png')), /declares 60000×60000 pixels, which is too large/);
  });

  it('maxPixels lowers the limit', async () => {
    await rejectsInput(readImage(img('figure.bmp'), { maxPixels: 1000 }), /declares 90×70 pixels, which is too large/);
    assert.equal((await readImage(img('figure.bmp'), { maxPixels: 90 * 70 })).width, 90);
  });

  it('the bomb is also refused by the Python side', async () => {
    await assert.rejects(
      converter.convertImage({ input: img('bomb.png'), output: join(work.dir, 'bomb-out.png'), format: 'png' }),
      /too many pixels|too large/,
    );
  });
});

describe('SVG', () => {
  it('is refused with a clear message', async () => {
    await rejectsInput(readImage(img('external-ref.svg')), /SVG figures are not supported yet/);
  });

  it('refusing never fetches what the SVG references', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'image/png' }).end(readFileSync(img('one-by-one.png')));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // Sanity: the server does count requests, so a zero below means nothing asked.
      await fetch(`${url}/probe`).then((r) => r.arrayBuffer());
      assert.equal(requests, 1);
      const svg = join(work.dir, 'external.svg');
      writeFileSync(
        svg,
        `<?xml version="1.0"?>\n<?xml-stylesheet href="${url}/style.css"?>\n` +
          `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">` +
          `<image xlink:href="${url}/figure.png" width="10" height="10"/><use href="${url}/defs.svg#a"/></svg>\n`,
      );
      await rejectsInput(readImage(svg), /SVG figures are not supported yet/);
      const info: ImageInfo = { path: svg, format: 'svg', mediaType: 'image/svg+xml', width: 10, height: 10, bytes: 1 };
      await rejectsInput(prepareForModel(info, converter, work.dir), /SVG/);
      assert.equal(requests, 1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('readImage sizes and formats come from the bytes', () => {
  const cases: Array<[string, string, number, number]> = [
    ['one-by-one.png', 'png', 1, 1],
    ['strip-20000x200.png', 'png', 20000, 200],
    ['gray16.png', 'png', 64, 32],
    ['palette.png', 'png', 120, 80],
    ['png-named.jpg', 'png', 120, 80],
    ['cmyk.jpg', 'jpeg', 80, 40],
    ['exif-rotated.jpg', 'jpeg', 40, 60],
    ['animated.gif', 'gif', 40, 30],
    ['still.gif', 'gif', 40, 30],
    ['figure.bmp', 'bmp', 90, 70],
    ['top-down.bmp', 'bmp', 90, 70],
    ['lossy.webp', 'webp', 100, 60],
    ['lossless.webp', 'webp', 101, 61],
    ['alpha.webp', 'webp', 102, 62],
  ];
  for (const [name, format, width, height] of cases) {
    it(`${name}: ${format} ${width}×${height}`, async () => {
      const info = await readImage(img(name));
      assert.deepEqual(
        { format: info.format, mediaType: info.mediaType, width: info.width, height: info.height, bytes: info.bytes },
        { format, mediaType: `image/${format}`, width, height, bytes: readFileSync(img(name)).length },
      );
    });
  }

  it('agrees with Pillow on every generated image (EXIF orientation applied)', async () => {
    const names = cases.map(([name]) => img(name));
    const ours = await Promise.all(names.map(async (p) => readImage(p)));
    assert.deepEqual(ours.map((i) => [i.width, i.height]), await pillowSizes(names));
  });

  it('agrees with Pillow on every real STEM and chart fixture', async () => {
    const files = [stemFixtures, chartFixtures].flatMap((dir) =>
      readdirSync(dir).filter((f) => f.endsWith('.png')).map((f) => join(dir, f)),
    );
    assert.ok(files.length >= 80, `found ${files.length} fixtures`);
    const ours = await Promise.all(files.map(async (p) => readImage(p)));
    assert.ok(ours.every((i) => i.format === 'png'));
    assert.deepEqual(ours.map((i) => [i.width, i.height]), await pillowSizes(files));
  });
});

describe('smartResize', () => {
  it('matches the published Qwen2.5-VL smart_resize (factor 32, 1,310,720 pixels)', async () => {
    const sizes: Array<[number, number]> = [];
    for (const w of [33, 48, 100, 401, 640, 1000, 1211, 1490, 2520, 3000, 4096, 5000]) {
      for (const h of [40, 48, 101, 400, 480, 831, 1114, 2000, 3355, 4000]) sizes.push([w, h]);
    }
    const script = `
import json, math, sys
def round_by_factor(n, f): return round(n / f) * f
def ceil_by_factor(n, f): return math.ceil(n / f) * f
def floor_by_factor(n, f): return math.floor(n / f) * f
def smart_resize(height, width, factor, min_pixels, max_pixels):
    h_bar = max(factor, round_by_factor(height, factor))
    w_bar = max(factor, round_by_factor(width, factor))
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = floor_by_factor(height / beta, factor)
        w_bar = floor_by_factor(width / beta, factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = ceil_by_factor(height * beta, factor)
        w_bar = ceil_by_factor(width * beta, factor)
    return [w_bar, h_bar]
print(json.dumps([smart_resize(h, w, 32, 4096, 1310720) for w, h in json.loads(sys.stdin.read())]))
`;
    const expected = JSON.parse(execFileSync(await pythonPath(), ['-c', script], { input: JSON.stringify(sizes), encoding: 'utf8' })) as number[][];
    assert.deepEqual(
      sizes.map(([w, h]) => {
        const r = smartResize(w, h, { minPixels: 4096 });
        return [r.width, r.height];
      }),
      expected,
    );
  });

  it('keeps a 20000×200 strip within limits and close to its aspect', () => {
    const r = smartResize(20000, 200);
    assert.equal(r.width % 32, 0);
    assert.equal(r.height % 32, 0);
    assert.ok(r.width <= 8192, `long side ${r.width}`);
    assert.ok(r.width * r.height <= MAX_MODEL_PIXELS);
    // The short side is the nearest multiple of 32 to the aspect-true height.
    assert.ok(Math.abs(r.height - (200 * r.width) / 20000) <= 16, `${r.width}×${r.height}`);
  });

  it('every result is a multiple of the factor and within the pixel cap', () => {
    for (const [w, h] of [[1, 1], [7, 5000], [65535, 65535], [1310720, 1], [1281, 1024], [1280, 1024]]) {
      for (const factor of [28, 32]) {
        const r = smartResize(w, h, { factor });
        assert.equal(r.width % factor, 0, `${w}×${h}`);
        assert.equal(r.height % factor, 0, `${w}×${h}`);
        assert.ok(r.width * r.height <= MAX_MODEL_PIXELS, `${w}×${h} → ${r.width}×${r.height}`);
        assert.ok(Math.max(r.width, r.height) <= 8192);
      }
    }
  });
});

describe('prepareForModel', () => {
  it('sends small PNG, GIF, WebP and JPEG bytes unchanged, labelled by their bytes', async () => {
    for (const [name, mediaType] of [
      ['png-named.jpg', 'image/png'],
      ['one-by-one.png', 'image/png'],
      ['gray16.png', 'image/png'],
      ['palette.png', 'image/png'],
      ['still.gif', 'image/gif'],
      ['lossless.webp', 'image/webp'],
      ['alpha.webp', 'image/webp'],
    ]) {
      const info = await readImage(img(name));
      const sent = await prepareForModel(info, converter, work.dir);
      assert.equal(sent.mediaType, mediaType, name);
      assert.ok(sent.dataUrl.startsWith(`data:${mediaType};base64,`), name);
      assert.equal(sent.resized, false, name);
      assert.deepEqual(dataUrlBytes(sent.dataUrl), readFileSync(img(name)), name);
      assert.deepEqual([sent.width, sent.height], [info.width, info.height], name);
    }
  });

  it('downscales a 20000×200 strip with smart resize', async () => {
    const info = await readImage(img('strip-20000x200.png'));
    const sent = await prepareForModel(info, converter, work.dir);
    assert.equal(sent.resized, true);
    assert.deepEqual({ width: sent.width, height: sent.height }, smartResize(20000, 200));
    const seen = await sentImage(sent.dataUrl, 'strip-sent.png');
    assert.equal(seen.mediaType, sent.mediaType);
    assert.deepEqual([seen.width, seen.height], [sent.width, sent.height]);
  });

  it('re-encodes BMP (bottom-up and top-down) as PNG, upright', async () => {
    for (const name of ['figure.bmp', 'top-down.bmp']) {
      const sent = await prepareForModel(await readImage(img(name)), converter, work.dir);
      assert.equal(sent.mediaType, 'image/png');
      assert.equal(sent.resized, true);
      const path = join(work.dir, `${name}.png`);
      writeFileSync(path, dataUrlBytes(sent.dataUrl));
      const pixels = await rgbaPixels(converter, path, work.dir);
      // The figure's red dot sits in the lower half; a flipped BMP would put it in the upper half.
      assert.deepEqual(pixels.at(45, 44), [255, 0, 0], name);
      assert.deepEqual(pixels.at(45, 70 - 44), [255, 255, 255], name);
    }
  });

  it('shows an EXIF-rotated JPEG upright: sides swapped, red corner at the top right', async () => {
    const info = await readImage(img('exif-rotated.jpg'));
    const sent = await prepareForModel(info, converter, work.dir);
    assert.equal(sent.resized, true);
    assert.equal(sent.mediaType, 'image/jpeg');
    assert.deepEqual([sent.width, sent.height], [40, 60]);
    const seen = await sentImage(sent.dataUrl, 'upright.jpg');
    assert.deepEqual([seen.width, seen.height], [40, 60]);
    const pixels = await rgbaPixels(converter, join(work.dir, 'upright.jpg'), work.dir);
    const [r, g, b] = pixels.at(36, 3);
    assert.ok(r > 200 && g < 60 && b < 60, `top right is red: ${[r, g, b]}`);
    assert.ok(pixels.at(3, 3).every((c) => c > 200), 'top left is white');
    // Sent again, the re-encoded bytes need nothing more: no orientation left to apply.
    assert.equal((await prepareForModel(seen, converter, work.dir)).resized, false);
  });

  it('converts a CMYK JPEG to RGB', async () => {
    const sent = await prepareForModel(await readImage(img('cmyk.jpg')), converter, work.dir);
    assert.equal(sent.resized, true);
    assert.equal(sent.mediaType, 'image/jpeg');
    const seen = await sentImage(sent.dataUrl, 'rgb.jpg');
    assert.equal((await prepareForModel(seen, converter, work.dir)).resized, false, 'the result is a plain RGB JPEG');
    const pixels = await rgbaPixels(converter, join(work.dir, 'rgb.jpg'), work.dir);
    const [r, g, b] = pixels.at(15, 20);
    assert.ok(r > 220 && g < 40 && b < 40, `left half is red: ${[r, g, b]}`);
    assert.ok(pixels.at(65, 20).every((c) => c > 230), 'right half is white');
  });

  it('sends the first frame of an animated GIF as PNG, and downscales a large one', async () => {
    for (const name of ['animated.gif', 'animated-large.gif']) {
      const info = await readImage(img(name));
      const sent = await prepareForModel(info, converter, work.dir);
      assert.equal(sent.mediaType, 'image/png', name);
      assert.equal(sent.resized, true, name);
      const expected = info.width * info.height > MAX_MODEL_PIXELS ? smartResize(info.width, info.height) : { width: info.width, height: info.height };
      assert.deepEqual({ width: sent.width, height: sent.height }, expected, name);
      const path = join(work.dir, `${name}.png`);
      writeFileSync(path, dataUrlBytes(sent.dataUrl));
      assert.deepEqual((await rgbaPixels(converter, path, work.dir)).at(5, 5), [255, 0, 0], `${name}: first frame is red`);
    }
  });

  it('decodes 16-bit and palette PNGs correctly when it has to decode them', async () => {
    const gray = await rgbaPixels(converter, img('gray16.png'), work.dir);
    assert.deepEqual(gray.at(0, 0), [0, 0, 0]);
    assert.deepEqual(gray.at(63, 0), [255, 255, 255]);
    const mid = gray.at(32, 0)[0];
    assert.ok(mid > 100 && mid < 160, `mid-ramp grey ${mid}`);
    const palette = await rgbaPixels(converter, img('palette.png'), work.dir);
    assert.deepEqual([palette.width, palette.height], [120, 80]);
    assert.deepEqual(palette.at(60, 45), [255, 0, 0]);
  });

  it('stops when cancelled', async () => {
    const info = await readImage(img('figure.bmp'));
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(prepareForModel(info, converter, work.dir, controller.signal), (e: unknown) => e instanceof RefigureError && e.kind === 'cancelled');
  });
});
