// Pulls the Python code out of a model's reply: prose plus fenced blocks (DESIGN.md §3).
import { RefigureError } from '../errors';

interface FencedBlock {
  /** The info string's first word, lower-cased; '' for a bare fence. */
  lang: string;
  body: string;
  terminated: boolean;
}

const pythonLangs = new Set(['python', 'py', 'python3']);
const replyPreviewChars = 300;

/**
 * The code of the first ```python (or ```py / ```python3) block, else of the first bare ``` block.
 * Blocks labelled with another language never count, nor does inline text. A last block left open
 * (a reply cut at max_tokens) runs to the end of the reply.
 */
export function extractCode(reply: string): string | undefined {
  const text = reply.replace(/\r\n?/g, '\n');
  // Reasoning models may draft code inside <think>; the answer after the reasoning wins when it has code.
  const end = text.lastIndexOf('</think>');
  if (end >= 0) {
    const answer = pickCode(fencedBlocks(text.slice(end + '</think>'.length)));
    if (answer !== undefined) return answer;
  }
  return pickCode(fencedBlocks(text));
}

/** Like `extractCode`, but a reply without code is an error that shows how the reply began. */
export function requireCode(reply: string): string {
  const code = extractCode(reply);
  if (code !== undefined) return code;
  throw noCode(reply);
}

/**
 * Like `requireCode`, and a reply with no fence at all is accepted when it is, as a whole, Python that
 * `parses` (Python's own parser) accepts: some models answer with bare code. Prose never parses.
 */
export async function requireCodeOrBare(reply: string, parses: (code: string) => Promise<boolean>): Promise<string> {
  const code = extractCode(reply);
  if (code !== undefined) return code;
  const bare = bareCandidate(reply);
  if (bare !== undefined && (await parses(bare))) return bare;
  throw noCode(reply);
}

/** The reply itself when it could be bare code: no fence anywhere, and some line that only code starts with. */
export function bareCandidate(reply: string): string | undefined {
  const text = reply.replace(/\r\n?/g, '\n').replace(/^[\s\S]*<\/think>/, '').trim();
  if (!text || /^( {0,3})(`{3,}|~{3,})/m.test(text)) return undefined;
  if (!/^(import \w|from [\w.]+ import |plt\.|fig\b|ax\b|[A-Za-z_]\w* = )/m.test(text)) return undefined;
  return `${text}\n`;
}

function noCode(reply: string): RefigureError {
  return new RefigureError('endpoint', 'The model replied without code.', `${describeReplyStart(reply)} Try again, or try another model or preset.`, { code: 'no-code' });
}

function describeReplyStart(reply: string): string {
  const flat = reply.trim().replace(/\s+/g, ' ');
  if (!flat) return 'Its reply was empty.';
  const start = flat.length > replyPreviewChars ? `${flat.slice(0, replyPreviewChars)}…` : flat;
  return `Its reply began: "${start}".`;
}

function pickCode(blocks: FencedBlock[]): string | undefined {
  const usable = blocks.filter((b) => b.body.trim() !== '');
  const chosen = usable.find((b) => pythonLangs.has(b.lang)) ?? usable.find((b) => b.lang === '');
  return chosen ? `${chosen.body.replace(/\s+$/, '')}\n` : undefined;
}

const openingFence = /^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
// Some models open the block at the end of a prose line ("Here it is: ```python"); only a Python label makes that count.
const trailingPythonFence = /\S.*?()(`{3,})(python3?|py)\s*$/i;

/** Fenced code blocks in CommonMark's sense: a fence opens at the start of a line and closes with a fence at least as long. */
function fencedBlocks(text: string): FencedBlock[] {
  const lines = text.split('\n');
  const blocks: FencedBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const open = openingFence.exec(lines[i] ?? '') ?? trailingPythonFence.exec(lines[i] ?? '');
    i++;
    if (!open) continue;
    const indent = open[1]?.length ?? 0;
    const fence = open[2] ?? '```';
    const lang = normaliseLang(open[3] ?? '');
    const closing = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    const body: string[] = [];
    let terminated = false;
    while (i < lines.length) {
      const line = lines[i] ?? '';
      i++;
      if (closing.test(line)) {
        terminated = true;
        break;
      }
      body.push(stripIndent(line, indent));
    }
    blocks.push({ lang, body: body.join('\n'), terminated });
  }
  return blocks;
}

function normaliseLang(info: string): string {
  // `python:plot.py`, `{.python}` and `Python3` all name the language first.
  const word = /^[{.]*([A-Za-z0-9_+-]*)/.exec(info)?.[1] ?? '';
  return word.toLowerCase();
}

function stripIndent(line: string, indent: number): string {
  let n = 0;
  while (n < indent && line[n] === ' ') n++;
  return line.slice(n);
}
