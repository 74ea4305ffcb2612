// LaTeX glue: the \includegraphics under the cursor, and the caption as \caption{…} in its figure (one undoable edit).
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { latexCaptionEdit, latexImageAt } from '../core/documents/documents';
import type { CaptionInserter, PanelOrigin } from './api';

type LatexOrigin = Extract<PanelOrigin, { kind: 'latex' }>;

export function isLatexDocument(document: vscode.TextDocument): boolean {
  return document.languageId === 'latex' || document.languageId === 'tex' || document.uri.path.endsWith('.tex');
}

/** The image of the `\includegraphics` under the editor's cursor in a LaTeX document, resolved as LaTeX would. */
export function latexImageAtCursor(editor: vscode.TextEditor | undefined): { image: vscode.Uri; origin: LatexOrigin } | undefined {
  if (!editor || !isLatexDocument(editor.document) || editor.document.uri.scheme !== 'file') return undefined;
  const document = editor.document;
  const offset = document.offsetAt(editor.selection.active);
  const image = latexImageAt(document.getText(), offset, document.uri.fsPath, existsSync);
  return image ? { image: vscode.Uri.file(image), origin: { kind: 'latex', document: document.uri, offset } } : undefined;
}

/** Puts the caption into the figure around the image's `\includegraphics`: replaces its `\caption{…}` or adds one. */
export async function insertLatexCaption(origin: LatexOrigin, imagePath: string, caption: string): Promise<string> {
  const document = await vscode.workspace.openTextDocument(origin.document);
  const outcome = latexCaptionEdit(document.getText(), { documentPath: document.uri.fsPath, imagePath }, caption);
  switch (outcome.kind) {
    case 'not-found':
      throw new Error(vscode.l10n.t('No \\includegraphics in {0} shows this image any more.', vscode.workspace.asRelativePath(document.uri)));
    case 'no-figure':
      throw new Error(vscode.l10n.t('The image is not inside a figure environment, where \\caption belongs. Wrap it in \\begin{figure} … \\end{figure} first.'));
    case 'replace':
    case 'insert': {
      const edit = new vscode.WorkspaceEdit();
      const { start, end, newText } = outcome.edit;
      edit.replace(document.uri, new vscode.Range(document.positionAt(start), document.positionAt(end)), newText);
      if (!(await vscode.workspace.applyEdit(edit))) throw new Error(vscode.l10n.t('The document could not be edited.'));
      return outcome.kind === 'replace' ? vscode.l10n.t('Caption replaced.') : vscode.l10n.t('Caption added.');
    }
  }
}

export const latexCaptionInserter: CaptionInserter = {
  canInsert: (context) => context.origin.kind === 'latex',
  async insert(context) {
    if (context.origin.kind !== 'latex') throw new Error(vscode.l10n.t('This panel was not opened from a LaTeX document.'));
    return insertLatexCaption(context.origin, context.imagePath, context.caption);
  },
};
