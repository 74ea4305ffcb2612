// Notebooks for the tests, written by nbformat itself (so they are formatted exactly as Jupyter writes them), and nbformat's validator.
import { execFileSync } from 'node:child_process';
import { findPython } from '../../src/core/render/python';

let pythonPath: string | undefined;

/** The Python the project's discovery finds (it has matplotlib; Debian's also has nbformat). */
export async function testPython(): Promise<string> {
  pythonPath ??= (await findPython({})).path;
  return pythonPath;
}

export interface NotebookSpec {
  /** nbformat minor version: 5 gives cells ids, 4 has none. */
  minor?: 4 | 5;
  /** Each cell: markdown / code source plus outputs described below. */
  cells: CellSpec[];
}

export type CellSpec =
  | { markdown: string; id?: string; attachments?: Record<string, string>; metadata?: Record<string, unknown> }
  | { code: string; id?: string; count?: number | null; outputs?: OutputSpec[] };

export type OutputSpec =
  | { png: string; kind?: 'display_data' | 'execute_result'; metadata?: Record<string, unknown> }
  | { jpeg: string }
  | { svg: string }
  | { text: string }
  | { stream: string }
  | { rawData: Record<string, unknown> };

const builder = String.raw`
import base64, io, json, sys
import nbformat
from nbformat import v4
from PIL import Image

spec = json.load(open(sys.argv[1]))
minor = spec.get('minor', 5)

def b64(path):
    return base64.b64encode(open(path, 'rb').read()).decode('ascii')

def jpeg(path):
    buf = io.BytesIO()
    Image.open(path).convert('RGB').save(buf, 'JPEG', quality=90)
    return base64.b64encode(buf.getvalue()).decode('ascii')

def output(o, count):
    if 'png' in o:
        data = {'image/png': b64(o['png']), 'text/plain': ['<Figure size 640x480 with 1 Axes>']}
        if o.get('kind') == 'execute_result':
            return v4.new_output('execute_result', data=data, metadata=o.get('metadata', {}), execution_count=count)
        return v4.new_output('display_data', data=data, metadata=o.get('metadata', {}))
    if 'jpeg' in o:
        return v4.new_output('display_data', data={'image/jpeg': jpeg(o['jpeg']), 'text/plain': ['<IPython.core.display.Image object>']})
    if 'svg' in o:
        return v4.new_output('display_data', data={'image/svg+xml': open(o['svg']).read(), 'text/plain': ['<Figure>']})
    if 'text' in o:
        return v4.new_output('execute_result', data={'text/plain': o['text']}, execution_count=count)
    if 'stream' in o:
        return v4.new_output('stream', name='stdout', text=o['stream'])
    return v4.new_output('display_data', data=o['rawData'])

cells = []
for c in spec['cells']:
    if 'markdown' in c:
        cell = v4.new_markdown_cell(c['markdown'], metadata=c.get('metadata', {}))
        if 'attachments' in c:
            cell['attachments'] = {name: {'image/png': b64(path)} for name, path in c['attachments'].items()}
    else:
        count = c.get('count')
        cell = v4.new_code_cell(c['code'], execution_count=count, outputs=[output(o, count) for o in c.get('outputs', [])])
    if 'id' in c:
        cell['id'] = c['id']
    cells.append(cell)

nb = v4.new_notebook(cells=cells, metadata={'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'}, 'language_info': {'name': 'python', 'version': '3.11.2'}})
nb['nbformat_minor'] = minor
if minor < 5:
    # nbformat adds ids while building; notebooks before 4.5 must not have them.
    for cell in nb['cells']:
        cell.pop('id', None)
nbformat.validate(nb)
nbformat.write(nb, sys.argv[2])
`;

/** Writes the notebook `spec` describes to `path` with nbformat. */
export async function writeNotebook(spec: NotebookSpec, path: string): Promise<void> {
  const python = await testPython();
  const specPath = `${path}.spec.json`;
  const { writeFileSync, rmSync } = await import('node:fs');
  writeFileSync(specPath, JSON.stringify(spec));
  try {
    execFileSync(python, ['-c', builder, specPath, path], { stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    rmSync(specPath, { force: true });
  }
}

/** nbformat's verdict on a file: undefined when valid, else the validator's message. */
export async function nbformatError(path: string): Promise<string | undefined> {
  const python = await testPython();
  try {
    execFileSync(python, ['-c', 'import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))', path], { stdio: ['ignore', 'pipe', 'pipe'] });
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    return stderr.trim().split('\n').slice(-3).join('\n');
  }
}
