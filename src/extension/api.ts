// What `activate()` returns (for integration tests and other extensions) and the seams other parts of Refigure plug into.
import type * as vscode from 'vscode';
import type { Logger, ReconstructionResult } from '../core/types';
import type { InsertTarget, PanelStatus } from '../shared/protocol';

export interface PanelSnapshot {
  imagePath: string;
  status: PanelStatus;
  result?: ReconstructionResult;
  lastError?: string;
}

export interface RefigureApi {
  /** Every open Refigure panel. */
  panels(): PanelSnapshot[];
  /** Fires whenever a panel's status, result or error changes. */
  readonly onDidChangePanelState: vscode.Event<PanelSnapshot>;
  /** Fires when a quick pick is on screen, its items loaded: Reconstruct Figure's images, Choose Model's models. */
  readonly onDidShowPick: vscode.Event<PickKind>;
  /** Reconstructs the image in its panel (opening it); rejects with the error a user would see. */
  reconstruct(uri: vscode.Uri): Promise<ReconstructionResult>;
}

export type PickKind = 'image' | 'model';

/** Where the image of a panel came from; decides where its caption can be inserted. */
export type PanelOrigin =
  | { kind: 'file' }
  | { kind: 'markdown'; document: vscode.Uri; /** Offset of the link's `!` when the panel opened. */ offset: number }
  | { kind: 'latex'; document: vscode.Uri; /** Offset of the cursor on the `\includegraphics` when the panel opened. */ offset: number }
  | { kind: 'notebook'; notebook: vscode.Uri; cell: number; output?: number };

export interface CaptionInsertContext {
  imagePath: string;
  caption: string;
  altText: string;
  code: string;
  origin: PanelOrigin;
}

/** A destination for the panel's caption ("Insert as alt text", "Insert into notebook"). */
export interface CaptionInserter {
  canInsert(context: Omit<CaptionInsertContext, 'caption' | 'altText' | 'code'>): boolean;
  /** Resolves with a short confirmation the panel may show. */
  insert(context: CaptionInsertContext): Promise<string | undefined>;
}

/** What notebook support (`registerNotebookSupport(context, deps)`) gets from the extension. */
export interface NotebookSupportDeps {
  /** Opens (or reveals) the panel for the image and reconstructs it; undefined when cancelled or failed (already reported). */
  reconstruct(image: vscode.Uri, origin: PanelOrigin): Promise<ReconstructionResult | undefined>;
  registerCaptionInserter(target: InsertTarget, inserter: CaptionInserter): vscode.Disposable;
  /** A folder in the extension's storage for files such as decoded output images. */
  workRoot: vscode.Uri;
  logger: Logger;
}
