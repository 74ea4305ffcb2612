// Markdown glue: the image link under the cursor, and replacing its alt text with a caption (one undoable edit).
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { findImageLinkAt, linkTargetPath, type MarkdownImageLink } from '../core/documents/markdownImage';
import { markdownAltTextEdit } from '../core/documents/documents';
import { RefigureError } from '../core/errors';
import type { CaptionInserter, PanelOrigin } from './api';

export interface MarkdownImageAtCursor {
  image: vscode.Uri;
  link: MarkdownImageLink;
  origin: Extract<PanelOrigin, { kind: 'markdown' }>;
}

/** The image link under the editor's cursor in a Markdown document; undefined when the cursor is not on one. */
export function imageAtCursor(editor: vscode.TextEditor | undefined): MarkdownImageAtCursor | undefined {
  if (!editor || editor.document.languageId !== 'markdown') return undefined;
  const document = editor.document;
  const link = findImageLinkAt(document.getText(), document.offsetAt(editor.selection.active));
  if (!link) return undefined;
  return { image: resolveLinkTarget(document, link.path), link, origin: { kind: 'markdown', document: document.uri, offset: link.start } };
}

/** The file a link in `document` points to; a clear error for remote images and missing files. */
export function resolveLinkTarget(document: vscode.TextDocument, destination: string): vscode.Uri {
  const target = linkTargetPath(destination);
  if (!target) {
    throw new RefigureError('input', vscode.l10n.t('{0} is not a local file.', destination), vscode.l10n.t('Download the image into the workspace and link to the file.'));
  }
  const candidates: string[] = [];
  if (isAbsolute(target)) candidates.push(target);
  if (document.uri.scheme === 'file') candidates.push(join(dirname(document.uri.fsPath), target));
  // A leading `/` means the workspace root in VS Code's Markdown preview.
  const folder = vscode.workspace.getWorkspaceFolder(document.uri) ?? vscode.workspace.workspaceFolders?.[0];
  if (folder && target.startsWith('/')) candidates.push(join(folder.uri.fsPath, target));
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new RefigureError('input', vscode.l10n.t('The image {0} does not exist.', target), vscode.l10n.t('Check the path in the link; it is relative to the Markdown file.'));
  }
  return vscode.Uri.file(found);
}

/** Replaces the alt text of the image's link (the one the panel was opened from, else the first link to that image outside fenced code). */
export async function replaceAltText(origin: Extract<PanelOrigin, { kind: 'markdown' }>, imagePath: string, caption: string): Promise<boolean> {
  const document = await vscode.workspace.openTextDocument(origin.document);
  const pointsAtImage = (destination: string): boolean => {
    try {
      return resolveLinkTarget(document, destination).fsPath === imagePath;
    } catch {
      return false;
    }
  };
  const found = markdownAltTextEdit(document.getText(), { offset: origin.offset, pointsAtImage }, caption);
  if (!found) return false;
  const edit = new vscode.WorkspaceEdit();
  edit.replace(document.uri, new vscode.Range(document.positionAt(found.start), document.positionAt(found.end)), found.newText);
  return vscode.workspace.applyEdit(edit);
}

export const altTextInserter: CaptionInserter = {
  canInsert: (context) => context.origin.kind === 'markdown',
  async insert(context) {
    if (context.origin.kind !== 'markdown') throw new Error(vscode.l10n.t('This panel was not opened from a Markdown link.'));
    const done = await replaceAltText(context.origin, context.imagePath, context.altText || context.caption);
    if (!done) throw new Error(vscode.l10n.t('The link to this image is no longer in the document.'));
    return vscode.l10n.t('Alt text replaced.');
  },
};

/** Keeps the `refigure.cursorOnImageLink` context key true while the cursor is on an image link in Markdown (for the menus). */
export function registerMarkdownContext(): vscode.Disposable {
  let last: boolean | undefined;
  const update = (editor: vscode.TextEditor | undefined): void => {
    const on = Boolean(
      editor &&
        editor.document.languageId === 'markdown' &&
        findImageLinkAt(editor.document.lineAt(editor.selection.active.line).text, editor.selection.active.character),
    );
    if (on === last) return;
    last = on;
    void vscode.commands.executeCommand('setContext', 'refigure.cursorOnImageLink', on);
  };
  update(vscode.window.activeTextEditor);
  // Until Refigure is active the menus cannot know where the cursor is, so they show on any Markdown line.
  void vscode.commands.executeCommand('setContext', 'refigure.active', true);
  return vscode.Disposable.from(
    vscode.window.onDidChangeActiveTextEditor(update),
    vscode.window.onDidChangeTextEditorSelection((event) => update(event.textEditor)),
  );
}
