// Temporary exploration (removed before hand-off).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

function walk(dir: string, out: string[] = []): string[] {
  let entries: string[] = [];
  try { entries = readdirSync(dir); } catch { return out; }
  for (const e of entries) {
    const p = join(dir, e);
    try { if (statSync(p).isDirectory()) walk(p, out); else out.push(p); } catch { /* gone */ }
  }
  return out;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

suite('zz explore', () => {
  test('input box typing', async function () {
    this.timeout(60000);
    await vscode.extensions.getExtension('refigure.refigure')?.activate();
    process.stdout.write(`HOME=${process.env.HOME}\n`);
    const home = process.env.HOME ?? '';
    process.stdout.write(walk(join(home, '..')).filter((p) => /log/i.test(p) && !/node_modules/.test(p)).slice(0, 60).join('\n') + '\n');
    for (const attempt of ['default:type', 'type']) {
      const p = vscode.window.showInputBox({ title: 'x' });
      await sleep(500);
      try { await vscode.commands.executeCommand(attempt, { text: 'abc' }); } catch (e) { process.stdout.write(`${attempt} threw ${String(e)}\n`); }
      await sleep(300);
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      const v = await Promise.race([p, sleep(2000).then(() => 'TIMEOUT')]);
      process.stdout.write(`${attempt}: ${JSON.stringify(v)}\n`);
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    }
    // paste
    try {
      await vscode.env.clipboard.writeText('pasted');
      process.stdout.write(`clipboard now ${await vscode.env.clipboard.readText()}\n`);
      const p = vscode.window.showInputBox({ title: 'y' });
      await sleep(500);
      await vscode.commands.executeCommand('editor.action.clipboardPasteAction');
      await sleep(300);
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      const v = await Promise.race([p, sleep(2000).then(() => 'TIMEOUT')]);
      process.stdout.write(`paste: ${JSON.stringify(v)}\n`);
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    } catch (e) { process.stdout.write(`paste threw ${String(e)}\n`); }
    // modal
    const m = vscode.window.showWarningMessage('modal?', { modal: true }, 'Replace');
    await sleep(500);
    for (const c of ['workbench.action.closeMessages', 'workbench.action.closeQuickOpen', 'workbench.action.closeActiveEditor']) {
      try { await vscode.commands.executeCommand(c); } catch (e) { process.stdout.write(`${c} threw\n`); }
      const v = await Promise.race([m, sleep(800).then(() => 'PENDING')]);
      process.stdout.write(`modal after ${c}: ${JSON.stringify(v)}\n`);
      if (v !== 'PENDING') break;
    }
  });
});
