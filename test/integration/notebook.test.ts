// Notebook support inside a real VS Code: the caption cell lands under the figure's cell, one undo removes it, a second run replaces it, and the mark survives saving.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import { parseNotebook, refigureMark } from '../../src/core/documents/notebook';
import { findPython } from '../../src/core/render/python';
import { startScriptedServer, type ScriptedServer } from '../support/scriptedServer';

const extensionId = 'refigure.refigure';

/** An nbformat 4.5 notebook whose second cell shows a figure as a PNG output. */
function notebookJson(png: Buffer): string {
  const notebook = {
    cells: [
      { cell_type: 'markdown', id: 'intro', metadata: {}, source: ['# A figure'] },
      {
        cell_type: 'code',
        execution_count: 1,
        id: 'plot',
        metadata: {},
        outputs: [{ data: { 'image/png': png.toString('base64'), 'text/plain': ['<Figure>'] }, metadata: {}, output_type: 'display_data' }],
        source: ['show()'],
      },
      { cell_type: 'markdown', id: 'after', metadata: {}, source: ['Text the user wrote after the figure.'] },
    ],
    metadata: { kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' }, language_info: { name: 'python' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  return `${JSON.stringify(notebook, null, 1)}\n`;
}

function captionCells(notebook: vscode.NotebookDocument): vscode.NotebookCell[] {
  return notebook.getCells().filter((cell) => refigureMark((cell.metadata as { metadata?: unknown }).metadata));
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const modelCode = ['import matplotlib.pyplot as plt', '', "plt.plot([0, 1, 2], [0, 1, 4], color='tab:blue')", "plt.title('y = x squared')"].join('\n');
const modelCaption = 'Caption: A blue curve rising through (0, 0), (1, 1) and (2, 4), titled y = x squared.\nAlt text: A rising blue curve.';

async function setEndpoint(url: string | undefined): Promise<void> {
  const config = vscode.workspace.getConfiguration('refigure');
  await config.update('endpoint', url, vscode.ConfigurationTarget.Global);
  await config.update('model', url ? 'scripted-model' : undefined, vscode.ConfigurationTarget.Global);
}

suite('notebook captions', () => {
  let uri: vscode.Uri;
  let notebook: vscode.NotebookDocument;
  let server: ScriptedServer;

  suiteSetup(async function () {
    this.timeout(120_000);
    const workspace = process.env.REFIGURE_TEST_WORKSPACE;
    const image = process.env.REFIGURE_TEST_IMAGE;
    assert.ok(workspace && image, 'run through test/host/runIntegration.mjs');
    const path = join(workspace, 'figure.ipynb');
    // The figure cell shows what the model's code draws: its labels agree with the redraw's, so the
    // caption goes in without the question the text guard asks when they differ.
    const python = await findPython({ explicit: vscode.workspace.getConfiguration('refigure').get<string>('pythonPath') || undefined });
    const scratch = mkdtempSync(join(tmpdir(), 'refigure-notebook-figure-'));
    writeFileSync(join(scratch, 'figure.py'), `${modelCode}\nplt.savefig('figure.png')\n`);
    await promisify(execFile)(python.path, ['figure.py'], { cwd: scratch, env: { ...process.env, MPLBACKEND: 'Agg' } });
    writeFileSync(path, notebookJson(readFileSync(join(scratch, 'figure.png'))));
    rmSync(scratch, { recursive: true, force: true });
    uri = vscode.Uri.file(path);
    await vscode.extensions.getExtension(extensionId)?.activate();
    notebook = await vscode.workspace.openNotebookDocument(uri);
    await vscode.window.showNotebookDocument(notebook);
    // The code request gets matplotlib code, the caption request (which asks for "Alt text:") a caption.
    server = await startScriptedServer((request) => ({
      reply: JSON.stringify(request.body).includes('Alt text:') ? modelCaption : `\`\`\`python\n${modelCode}\n\`\`\``,
    }));
  });

  suiteTeardown(async () => {
    await setEndpoint(undefined);
    await server?.close();
  });

  test('without a model nothing is written into the notebook: the offline trace does not describe figures', async function () {
    this.timeout(120_000);
    await setEndpoint(undefined);
    const before = notebook.cellCount;
    const result = (await vscode.commands.executeCommand('refigure.notebook.generateCaption', uri, 1)) as { provider: string } | undefined;
    assert.equal(result?.provider, 'offline');
    assert.equal(notebook.cellCount, before);
    assert.equal(captionCells(notebook).length, 0);
    await setEndpoint(server.url);
  });

  test('Generate Caption puts a marked caption cell directly under the figure cell', async function () {
    this.timeout(120_000);
    const result = (await vscode.commands.executeCommand('refigure.notebook.generateCaption', uri, 1)) as { caption: string } | undefined;
    assert.ok(result?.caption, 'a caption came back');
    assert.equal(notebook.cellCount, 4);
    const caption = notebook.cellAt(2);
    assert.equal(caption.kind, vscode.NotebookCellKind.Markup);
    assert.equal(caption.document.getText(), result.caption.trim());
    assert.deepEqual(refigureMark((caption.metadata as { metadata?: unknown }).metadata), { captionFor: 'cell:plot/output/0', style: 'caption', kind: 'caption' });
    assert.equal(notebook.cellAt(3).document.getText(), 'Text the user wrote after the figure.');
  });

  test('one undo removes the caption cell', async () => {
    // The panel beside took focus; undo acts on the focused editor.
    const column = vscode.window.visibleNotebookEditors.find((editor) => editor.notebook === notebook)?.viewColumn;
    await vscode.window.showNotebookDocument(notebook, { viewColumn: column, preserveFocus: false });
    await vscode.commands.executeCommand('undo');
    await until(() => notebook.cellCount === 3, 'the caption cell to go');
    assert.equal(captionCells(notebook).length, 0);
    assert.equal(notebook.cellAt(2).document.getText(), 'Text the user wrote after the figure.');
  });

  test('running it twice replaces the caption instead of stacking a second one', async function () {
    this.timeout(240_000);
    await vscode.commands.executeCommand('refigure.notebook.generateCaption', uri, 1);
    await vscode.commands.executeCommand('refigure.notebook.generateCaption', uri, 1);
    assert.equal(notebook.cellCount, 4);
    assert.equal(captionCells(notebook).length, 1);
    assert.equal(notebook.getCells().indexOf(captionCells(notebook)[0] as vscode.NotebookCell), 2);
  });

  test('saved through the built-in serializer, the mark is in the file and the outputs are intact', async () => {
    assert.ok(await notebook.save(), 'the notebook saved');
    const saved = parseNotebook(readFileSync(uri.fsPath, 'utf8')).json;
    assert.equal(saved.cells.length, 4);
    const marked = saved.cells.filter((cell) => refigureMark(cell.metadata));
    assert.equal(marked.length, 1);
    assert.equal(saved.cells.indexOf(marked[0] as (typeof saved.cells)[number]), 2);
    assert.equal(saved.cells[1]?.outputs?.length, 1);
    assert.equal(saved.cells[1]?.execution_count, 1);
    assert.equal(typeof marked[0]?.id, 'string', 'nbformat 4.5 cells need an id');
  });
});
