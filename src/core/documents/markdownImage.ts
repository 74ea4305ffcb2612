// Finds the Markdown image link `![alt](path "title")` under a cursor, and the text that may replace its alt text.

/** An inline Markdown image link; offsets are into the text that was searched. */
export interface MarkdownImageLink {
  /** Offset of `!` and just after `)`. */
  start: number;
  end: number;
  alt: string;
  /** Range of the alt text between `![` and `]` (may be empty). */
  altStart: number;
  altEnd: number;
  /** The destination as written, without angle brackets. */
  path: string;
  title?: string;
}

/**
 * The inline image link that contains `offset` (from its `!` up to and including its `)`), or undefined.
 * Reference-style images (`![alt][ref]`) are not links to a file and are ignored.
 */
export function findImageLinkAt(text: string, offset: number): MarkdownImageLink | undefined {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const nextNewline = text.indexOf('\n', offset);
  const lineEnd = nextNewline === -1 ? text.length : nextNewline;
  for (const link of findImageLinks(text.slice(lineStart, lineEnd))) {
    const start = link.start + lineStart;
    const end = link.end + lineStart;
    if (offset >= start && offset <= end) {
      return { ...link, start, end, altStart: link.altStart + lineStart, altEnd: link.altEnd + lineStart };
    }
  }
  return undefined;
}

/** Every inline image link on one line of Markdown, left to right. */
export function findImageLinks(line: string): MarkdownImageLink[] {
  const links: MarkdownImageLink[] = [];
  let i = 0;
  while (i < line.length) {
    const bang = line.indexOf('![', i);
    if (bang === -1) break;
    if (isEscaped(line, bang)) {
      i = bang + 1;
      continue;
    }
    const link = parseAt(line, bang);
    if (link) {
      links.push(link);
      i = link.end;
    } else {
      i = bang + 2;
    }
  }
  return links;
}

function parseAt(line: string, bang: number): MarkdownImageLink | undefined {
  const altStart = bang + 2;
  // Alt text may hold balanced brackets and escapes, as CommonMark allows.
  let depth = 0;
  let j = altStart;
  for (; j < line.length; j++) {
    const ch = line[j];
    if (ch === '\\') {
      j++;
      continue;
    }
    if (ch === '[') depth++;
    else if (ch === ']') {
      if (depth === 0) break;
      depth--;
    }
  }
  if (j >= line.length) return undefined;
  const altEnd = j;
  if (line[altEnd + 1] !== '(') return undefined;
  let k = skipSpaces(line, altEnd + 2);
  let path: string;
  if (line[k] === '<') {
    const close = findUnescaped(line, '>', k + 1);
    if (close === -1) return undefined;
    path = line.slice(k + 1, close);
    k = close + 1;
  } else {
    // A bare destination ends at whitespace or at the `)` that balances its parentheses.
    const from = k;
    let parens = 0;
    for (; k < line.length; k++) {
      const ch = line[k];
      if (ch === '\\') {
        k++;
        continue;
      }
      if (ch === ' ' || ch === '\t') break;
      if (ch === '(') parens++;
      else if (ch === ')') {
        if (parens === 0) break;
        parens--;
      }
    }
    path = line.slice(from, k);
  }
  k = skipSpaces(line, k);
  let title: string | undefined;
  const quote = line[k];
  if (quote === '"' || quote === "'" || quote === '(') {
    const closer = quote === '(' ? ')' : quote;
    const close = findUnescaped(line, closer, k + 1);
    if (close === -1) return undefined;
    title = unescape(line.slice(k + 1, close));
    k = skipSpaces(line, close + 1);
  }
  if (line[k] !== ')') return undefined;
  if (!path) return undefined;
  return { start: bang, end: k + 1, alt: unescape(line.slice(altStart, altEnd)), altStart, altEnd, path: unescape(path), title };
}

/** The file a link's destination names: query and fragment dropped, percent-escapes decoded; undefined for remote URLs. */
export function linkTargetPath(destination: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(destination) && !/^file:/i.test(destination) && !/^[a-z]:[\\/]/i.test(destination)) return undefined;
  let path = destination.replace(/^file:\/\//i, '');
  path = path.replace(/[?#].*$/, '');
  try {
    path = decodeURIComponent(path);
  } catch {
    // A stray `%` is more likely part of a file name than a broken escape.
  }
  return path || undefined;
}

/** Text safe to put between `![` and `]`: one line, brackets and backslashes escaped. */
export function toAltText(caption: string): string {
  return caption
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\\[\]]/g, (ch) => `\\${ch}`);
}

function skipSpaces(line: string, from: number): number {
  let k = from;
  while (line[k] === ' ' || line[k] === '\t') k++;
  return k;
}

function findUnescaped(line: string, ch: string, from: number): number {
  for (let k = from; k < line.length; k++) {
    if (line[k] === '\\') k++;
    else if (line[k] === ch) return k;
  }
  return -1;
}

function isEscaped(line: string, at: number): boolean {
  let backslashes = 0;
  for (let k = at - 1; k >= 0 && line[k] === '\\'; k--) backslashes++;
  return backslashes % 2 === 1;
}

function unescape(text: string): string {
  return text.replace(/\\([!-/:-@[-`{-~])/g, '$1');
}
