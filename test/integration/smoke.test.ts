// The extension is found, activates and sees the test workspace, both from the checkout and as an installed vsix.
import * as assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

const extensionId = 'refigure.refigure';

function samePath(a: string, b: string): boolean {
  return realpathSync(a) === realpathSync(b);
}

suite('extension host smoke', () => {
  test('the Refigure extension is present and activates', async () => {
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension, `${extensionId} is not loaded; extensions seen: ${vscode.extensions.all.map((e) => e.id).join(', ')}`);
    await extension.activate();
    assert.equal(extension.isActive, true);
    assert.equal(extension.packageJSON.name, 'refigure');
    const expectedRoot = process.env.REFIGURE_EXPECT_EXTENSION_ROOT;
    if (expectedRoot) {
      // Loaded from the checkout (development) or from the extensions folder the vsix went into.
      assert.ok(
        samePath(extension.extensionUri.fsPath, expectedRoot) || extension.extensionUri.fsPath.startsWith(expectedRoot),
        `extension loaded from ${extension.extensionUri.fsPath}, expected ${expectedRoot}`,
      );
    }
  });

  test('workspace trust is what the host was asked for', () => {
    // The host turns trust off unless a run asks for it (runIntegration --untrusted keeps it on: folders open restricted).
    const expected = process.env.REFIGURE_EXPECT_TRUSTED ?? 'true';
    assert.equal(vscode.workspace.isTrusted, expected === 'true');
  });

  test('the workspace is the prepared folder with its fixture image', async () => {
    const expected = process.env.REFIGURE_TEST_WORKSPACE;
    assert.ok(expected, 'REFIGURE_TEST_WORKSPACE is not set: run through test/host/runIntegration.mjs');
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1);
    assert.ok(samePath(folders[0]!.uri.fsPath, expected), `workspace is ${folders[0]!.uri.fsPath}, expected ${expected}`);
    const images = await vscode.workspace.findFiles('**/*.png');
    const imageName = process.env.REFIGURE_TEST_IMAGE;
    assert.ok(imageName, 'REFIGURE_TEST_IMAGE is not set');
    assert.ok(
      images.some((uri) => samePath(uri.fsPath, join(expected, imageName))),
      `findFiles did not return ${imageName}; it returned ${images.map((u) => u.fsPath).join(', ')}`,
    );
    const stat = await vscode.workspace.fs.stat(vscode.Uri.file(join(expected, imageName)));
    assert.ok(stat.size > 0);
  });
});
