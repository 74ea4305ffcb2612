// The panel's HTML: a strict CSP with a real nonce, and model text that cannot become markup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPanelHtml, contentSecurityPolicy, createNonce, escapeHtml } from '../../src/extension/panelHtmlPure';
import { defaultWebviewState, type PanelView } from '../../src/shared/protocol';

const cspSource = 'https://file+.vscode-resource.vscode-cdn.net';

function view(caption: string): PanelView {
  return {
    imageName: 'a.png',
    imagePath: '/w/a.png',
    originalUri: `${cspSource}/w/a.png?v=1`,
    status: 'rendered',
    caption,
    attempts: [
      { index: 0, kind: 'initial', ok: false, best: true, seconds: 1, sandbox: 'bwrap', code: 'print("</script>")', error: { kind: 'exception', message: '<img src=x onerror=alert(1)>' } },
    ],
    notes: [],
    insertTargets: [],
    canRefine: false,
    lead: 'none',
    trusted: true,
    live: false,
  };
}

function html(caption: string, nonce = createNonce()): string {
  return buildPanelHtml({
    cspSource,
    nonce,
    scriptUri: `${cspSource}/ext/dist/webview.js`,
    styleUri: `${cspSource}/ext/media/panel.css`,
    title: 'Refigure: a.png',
    view: view(caption),
    state: defaultWebviewState('/w/a.png'),
    strings: { copy: 'Copy "it"' },
  });
}

test('nonces are 32 random bytes in base64 and differ every time', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const nonce = createNonce();
    assert.match(nonce, /^[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(nonce, 'base64').length, 32);
    seen.add(nonce);
  }
  assert.equal(seen.size, 50);
});

test('the CSP denies by default, allows scripts only by nonce and never unsafe-inline', () => {
  const nonce = createNonce();
  const page = html('fine', nonce);
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(page)?.[1];
  assert.ok(csp, 'the page has a CSP meta tag');
  const decoded = csp.replace(/&#39;/g, "'");
  assert.equal(decoded, contentSecurityPolicy(cspSource, nonce));
  assert.match(decoded, /^default-src 'none';/);
  assert.ok(decoded.includes(`script-src 'nonce-${nonce}'`));
  assert.ok(decoded.includes(`img-src ${cspSource} data: blob:`));
  assert.ok(decoded.includes(`style-src ${cspSource}`));
  assert.ok(!page.includes('unsafe-inline'));
  assert.ok(!page.includes('unsafe-eval'));
  const scripts = [...page.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  assert.equal(scripts.length, 1);
  assert.ok(scripts[0]!.includes(`nonce="${nonce}"`));
  assert.ok(scripts[0]!.includes('src="'));
  assert.ok(!/<style\b/.test(page), 'no inline style element');
  assert.ok(!/\sstyle=/.test(page), 'no inline style attribute');
});

test('a caption with <script> and quotes ends up escaped in the data attribute, and decodes back intact', () => {
  const caption = '<script>alert("x")</script> & \'quoted\'';
  const page = html(caption);
  assert.equal([...page.matchAll(/<script/g)].length, 1, 'only our own script tag');
  assert.ok(!page.includes('onerror=alert(1)>'));
  const attribute = /data-refigure="([^"]*)"/.exec(page)?.[1];
  assert.ok(attribute);
  const decoded = attribute.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  const data = JSON.parse(decoded) as { view: PanelView; strings: Record<string, string> };
  assert.equal(data.view.caption, caption);
  assert.equal(data.view.attempts[0]?.error?.message, '<img src=x onerror=alert(1)>');
  assert.equal(data.strings.copy, 'Copy "it"');
});

test('escapeHtml covers the five characters that matter', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
});
