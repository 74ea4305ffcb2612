// The caption guard's question: a caption whose redraw reads differently from the figure goes in only when the user says so.
import * as vscode from 'vscode';
import { captionGuard } from '../core/reconstruct/caption';
import type { ReconstructionResult } from '../core/types';

/** True when the caption may go into the document: its text agrees, or the user chose to insert it anyway. */
export async function captionMayGoIn(result: ReconstructionResult | undefined): Promise<boolean> {
  if (!result) return true;
  const guard = captionGuard(result);
  if (guard.code !== 'text-differs') return true;
  const insert = vscode.l10n.t('Insert Anyway');
  const answer = await vscode.window.showWarningMessage(
    vscode.l10n.t("The redraw's text differs from the figure's ({0}), so its caption may state wrong labels or values.", guard.reason),
    { modal: true },
    insert,
  );
  return answer === insert;
}
