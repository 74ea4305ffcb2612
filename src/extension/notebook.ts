// Notebook glue: Reconstruct Figure / Generate Caption on a cell, and the panel's caption put back into the notebook as undoable edits.
import * as vscode from 'vscode';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { CaptionStyle, ReconstructionResult } from '../core/types';
import { RefigureError, describeError } from '../core/errors';
import { linkTargetPath, toAltText } from '../core/documents/markdownImage';
import {
  type NotebookCell as CellJson,
  type NotebookFigure,
  type RefigureMark,
  captionMarkdown,
  captionSlot,
  describeFigure,
  figureBytes,
  findFigures,
  markdownImages,
  newCellId,
  refigureMark,
} from '../core/documents/notebook';
import type { CaptionInsertContext, CaptionInserter, NotebookSupportDeps } from './api';
import { Disposable } from './dispose';
import { altTextInserter } from './markdown';
import { readSettings } from './settings';
import { captionDescribesFigure } from '../core/reconstruct/caption';
import { captionMayGoIn } from './captionQuestion';
import { reportUndescribedFigure } from './commands';
import { isRecord } from '../shared/values';

/** A figure of a live notebook: the cell object follows the cell when cells move. */
export interface NotebookFigureTarget {
  notebook: vscode.NotebookDocument;
  cell: vscode.NotebookCell;
  figure: NotebookFigure;
}

export function registerNotebookSupport(context: vscode.ExtensionContext, deps: NotebookSupportDeps): vscode.Disposable {
  return new NotebookSupport(context, deps);
}

export class NotebookSupport extends Disposable {
  /** The notebook figure each decoded or linked image file came from, for the panel's insert actions. */
  private readonly targets = new Map<string, NotebookFigureTarget>();

  constructor(
    _context: vscode.ExtensionContext,
    private readonly deps: NotebookSupportDeps,
  ) {
    super();
    this._register(vscode.commands.registerCommand('refigure.notebook.reconstructFigure', (arg?: unknown, index?: unknown) => this.reconstructCommand(arg, index, false)));
    this._register(vscode.commands.registerCommand('refigure.notebook.generateCaption', (arg?: unknown, index?: unknown) => this.reconstructCommand(arg, index, true)));
    this._register(deps.registerCaptionInserter('notebook', this.captionBelowInserter()));
    this._register(deps.registerCaptionInserter('altText', this.altTextInserter()));
    this._register(deps.registerCaptionInserter('notebookCode', this.codeCellInserter()));
  }

  /**
   * Reconstructs a figure of a cell (the argument: a cell from the cell menu, or a notebook URI and cell index;
   * else the selected cell). With `caption`, the caption then goes under an output image, or into the alt text of a Markdown image.
   */
  private async reconstructCommand(arg: unknown, index: unknown, caption: boolean): Promise<ReconstructionResult | undefined> {
    try {
      const cell = await cellFromArguments(arg, index);
      if (!cell) {
        void vscode.window.showInformationMessage(vscode.l10n.t('Select a notebook cell with an image output or a Markdown image first.'));
        return undefined;
      }
      const target = await this.pickFigure(cell);
      if (!target) return undefined;
      const image = await this.imageFile(target);
      this.targets.set(image.fsPath, target);
      const result = await this.deps.reconstruct(image, {
        kind: 'notebook',
        notebook: cell.notebook.uri,
        cell: cell.index,
        ...(target.figure.kind === 'output' ? { output: target.figure.outputIndex } : {}),
      });
      if (!result || !caption) return result;
      if (result.caption && !captionDescribesFigure(result)) {
        reportUndescribedFigure();
        return result;
      }
      const text = result.caption || result.altText;
      if (!text) {
        void vscode.window.showWarningMessage(vscode.l10n.t('No caption was written for this figure; the panel says why.'));
        return result;
      }
      if (!(await captionMayGoIn(result))) return result;
      if (target.figure.kind === 'output') await this.insertCaption(target, text, result.captionStyle);
      else await this.setAltText(target, result.altText || text);
      return result;
    } catch (error) {
      this.deps.logger.error(describeError(error));
      void vscode.window.showErrorMessage(describeError(error));
      return undefined;
    }
  }

  /** The figure of a cell the user means: the only one, or one picked from a list. */
  private async pickFigure(cell: vscode.NotebookCell): Promise<NotebookFigureTarget | undefined> {
    const figures = figuresOfCell(cell);
    if (figures.length === 0) {
      throw new RefigureError(
        'input',
        vscode.l10n.t('Cell {0} has no image output or Markdown image.', cell.index + 1),
        vscode.l10n.t('Run the cell so it shows a figure, or add an image link to the Markdown.'),
      );
    }
    if (figures.length === 1) return { notebook: cell.notebook, cell, figure: figures[0] as NotebookFigure };
    const picked = await vscode.window.showQuickPick(
      figures.map((figure) => ({ label: describeFigure(figure), figure })),
      { placeHolder: vscode.l10n.t('Which figure of cell {0}?', cell.index + 1) },
    );
    return picked ? { notebook: cell.notebook, cell, figure: picked.figure } : undefined;
  }

  /** The image file to reconstruct: output and attachment bytes are written to the work folder (named by their hash, so a panel is reused). */
  async imageFile(target: NotebookFigureTarget): Promise<vscode.Uri> {
    const { figure, cell } = target;
    if (figure.kind === 'markdown') return resolveNotebookLink(cell.notebook, figure.path);
    const json = cellAsJson(cell, true);
    const { bytes, extension } = figureBytes({ cells: [json], metadata: {}, nbformat: 4, nbformat_minor: 5 }, { ...figure, cellIndex: 0 });
    if (extension === 'svg') {
      throw new RefigureError('input', vscode.l10n.t('SVG outputs are not supported yet.'), vscode.l10n.t('Have the notebook also show the figure as PNG, e.g. with %config InlineBackend.figure_formats = ["png"].'));
    }
    const folder = vscode.Uri.joinPath(this.deps.workRoot, 'notebook-figures');
    await mkdir(folder.fsPath, { recursive: true });
    const file = vscode.Uri.joinPath(folder, `${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.${extension}`);
    await writeFile(file.fsPath, bytes);
    return file;
  }

  /** Inserts (or replaces) Refigure's Markdown caption cell directly under the figure's cell; one undo removes it. */
  async insertCaption(target: NotebookFigureTarget, caption: string, style: CaptionStyle): Promise<number> {
    const text = captionMarkdown(caption, style);
    const mark: RefigureMark = { captionFor: target.figure.id, style };
    return this.upsertCell(target, 'caption', new vscode.NotebookCellData(vscode.NotebookCellKind.Markup, text, 'markdown'), mark);
  }

  /** Inserts (or replaces) the reconstruction code as a code cell under the figure's cell. */
  async insertCodeCell(target: NotebookFigureTarget, code: string): Promise<number> {
    const language = target.cell.kind === vscode.NotebookCellKind.Code ? target.cell.document.languageId : 'python';
    const mark: RefigureMark = { captionFor: target.figure.id, kind: 'code' };
    return this.upsertCell(target, 'code', new vscode.NotebookCellData(vscode.NotebookCellKind.Code, code.replace(/\n+$/, ''), language), mark);
  }

  /** Alt text in place: the Markdown link's alt, or `alt` in an output's metadata (nbformat allows any output metadata). */
  async setAltText(target: NotebookFigureTarget, alt: string): Promise<void> {
    const { cell, figure } = target;
    if (cell.index < 0) throw new RefigureError('input', vscode.l10n.t('The figure\'s cell is no longer in the notebook.'));
    const edit = new vscode.WorkspaceEdit();
    if (figure.kind === 'output') {
      const outputs = cell.outputs.map((output, i) => (i === figure.outputIndex ? withAlt(output, figure.mime, alt) : output));
      const data = new vscode.NotebookCellData(cell.kind, cell.document.getText(), cell.document.languageId);
      data.metadata = cell.metadata;
      data.outputs = outputs;
      if (cell.executionSummary) data.executionSummary = cell.executionSummary;
      edit.set(cell.notebook.uri, [vscode.NotebookEdit.replaceCells(new vscode.NotebookRange(cell.index, cell.index + 1), [data])]);
    } else {
      const document = cell.document;
      const link = markdownImages(document.getText())[figure.linkIndex];
      if (!link) throw new RefigureError('input', vscode.l10n.t('The image link is no longer in cell {0}.', cell.index + 1));
      edit.replace(document.uri, new vscode.Range(document.positionAt(link.altStart), document.positionAt(link.altEnd)), toAltText(alt));
    }
    if (!(await vscode.workspace.applyEdit(edit))) throw new Error(vscode.l10n.t('VS Code refused the edit to the notebook.'));
  }

  private async upsertCell(target: NotebookFigureTarget, kind: 'caption' | 'code', data: vscode.NotebookCellData, mark: RefigureMark): Promise<number> {
    const { notebook, cell } = target;
    if (cell.index < 0) throw new RefigureError('input', vscode.l10n.t('The figure\'s cell is no longer in the notebook.'));
    const cells = notebook.getCells();
    const slot = captionSlot(cells.map((c) => markOf(c.metadata)), cell.index, mark.captionFor, kind);
    const edit = new vscode.WorkspaceEdit();
    if ('replace' in slot) {
      const previous = cells[slot.replace] as vscode.NotebookCell;
      data.metadata = withMark(previous.metadata, mark);
      edit.set(notebook.uri, [vscode.NotebookEdit.replaceCells(new vscode.NotebookRange(slot.replace, slot.replace + 1), [data])]);
    } else {
      const metadata = withMark({}, mark);
      if (notebookUsesCellIds(notebook)) {
        const taken = new Set(cells.map((c) => c.metadata?.id).filter((id): id is string => typeof id === 'string'));
        metadata.id = newCellId(taken);
      }
      data.metadata = metadata;
      edit.set(notebook.uri, [vscode.NotebookEdit.insertCells(slot.insert, [data])]);
    }
    if (!(await vscode.workspace.applyEdit(edit))) throw new Error(vscode.l10n.t('VS Code refused the edit to the notebook.'));
    return 'replace' in slot ? slot.replace : slot.insert;
  }

  private captionBelowInserter(): CaptionInserter {
    return {
      canInsert: (context) => context.origin.kind === 'notebook' && this.targets.has(context.imagePath),
      insert: async (context) => {
        const target = this.requireTarget(context);
        const style = readSettings().captionStyle;
        await this.insertCaption(target, style === 'alt' ? context.altText || context.caption : context.caption, style);
        return vscode.l10n.t('Caption inserted under cell {0}.', target.cell.index + 1);
      },
    };
  }

  /** The reconstruction code as a new code cell under the figure's cell (after Refigure's caption cell when there is one). */
  private codeCellInserter(): CaptionInserter {
    return {
      canInsert: (context) => context.origin.kind === 'notebook' && this.targets.has(context.imagePath),
      insert: async (context) => {
        const index = await this.insertCodeCell(this.requireTarget(context), context.code);
        return vscode.l10n.t('Code inserted as cell {0}.', index + 1);
      },
    };
  }

  /** Alt text for notebook figures; Markdown documents keep the extension's own alt-text inserter. */
  private altTextInserter(): CaptionInserter {
    return {
      canInsert: (context) => (context.origin.kind === 'notebook' ? this.targets.has(context.imagePath) : altTextInserter.canInsert(context)),
      insert: async (context) => {
        if (context.origin.kind !== 'notebook') return altTextInserter.insert(context);
        const target = this.requireTarget(context);
        await this.setAltText(target, context.altText || context.caption);
        return target.figure.kind === 'output' ? vscode.l10n.t('Alt text set in the output\'s metadata.') : vscode.l10n.t('Alt text replaced.');
      },
    };
  }

  private requireTarget(context: Pick<CaptionInsertContext, 'imagePath'>): NotebookFigureTarget {
    const target = this.targets.get(context.imagePath);
    if (!target || target.cell.index < 0) throw new Error(vscode.l10n.t('The notebook cell of this figure is no longer open.'));
    return target;
  }
}

/** The figures of one live cell, with ids as the command line computes them for the same cell. */
export function figuresOfCell(cell: vscode.NotebookCell): NotebookFigure[] {
  const json = cellAsJson(cell, false);
  return findFigures({ cells: [json], metadata: {}, nbformat: 4, nbformat_minor: 5 }).map((figure) => ({ ...figure, cellIndex: cell.index }));
}

/** A live cell in ipynb form (as the built-in serializer would write it), with output bytes base64-encoded when asked. */
export function cellAsJson(cell: vscode.NotebookCell, withData: boolean): CellJson {
  const metadata = cell.metadata as Record<string, unknown> | undefined;
  const id = typeof metadata?.id === 'string' ? metadata.id : undefined;
  const jupyterMetadata = jupyterCellMetadata(metadata);
  if (cell.kind === vscode.NotebookCellKind.Markup) {
    const attachments = metadata?.attachments as CellJson['attachments'];
    return { cell_type: 'markdown', ...(id ? { id } : {}), metadata: jupyterMetadata, source: cell.document.getText(), ...(attachments ? { attachments } : {}) };
  }
  const outputs = cell.outputs.map((output) => {
    const data: Record<string, unknown> = {};
    for (const item of output.items) {
      if (!withData) data[item.mime] = '';
      else if (item.mime === 'image/png' || item.mime === 'image/jpeg') data[item.mime] = Buffer.from(item.data).toString('base64');
      else data[item.mime] = Buffer.from(item.data).toString('utf8');
    }
    const outputMetadata = output.metadata as Record<string, unknown> | undefined;
    const outputType = typeof outputMetadata?.outputType === 'string' ? outputMetadata.outputType : 'display_data';
    const inner = outputMetadata?.metadata;
    return { output_type: outputType, data, metadata: isRecord(inner) ? inner : {} };
  });
  return { cell_type: 'code', ...(id ? { id } : {}), metadata: jupyterMetadata, source: cell.document.getText(), outputs, execution_count: cell.executionSummary?.executionOrder ?? null };
}

function jupyterCellMetadata(metadata: Record<string, unknown> | undefined): Record<string, unknown> {
  // The built-in ipynb serializer keeps the file's cell metadata under `metadata` (older versions: `custom.metadata`).
  const direct = metadata?.metadata;
  if (isRecord(direct)) return direct;
  const custom = metadata?.custom;
  if (isRecord(custom) && isRecord(custom.metadata)) return custom.metadata;
  return {};
}

function markOf(metadata: unknown): RefigureMark | undefined {
  return isRecord(metadata) ? refigureMark(jupyterCellMetadata(metadata)) : undefined;
}

function withMark(metadata: Record<string, unknown> | undefined, mark: RefigureMark): Record<string, unknown> {
  const base = { ...(metadata ?? {}) };
  const inner = { ...jupyterCellMetadata(base), refigure: { ...mark } };
  delete base.custom;
  base.metadata = inner;
  return base;
}

function withAlt(output: vscode.NotebookCellOutput, mime: string, alt: string): vscode.NotebookCellOutput {
  const metadata = { ...((output.metadata as Record<string, unknown> | undefined) ?? {}) };
  const inner = isRecord(metadata.metadata) ? { ...metadata.metadata } : {};
  inner[mime] = { ...(isRecord(inner[mime]) ? inner[mime] : {}), alt: alt.replace(/\s+/g, ' ').trim() };
  metadata.metadata = inner;
  return new vscode.NotebookCellOutput(output.items, metadata);
}

function notebookUsesCellIds(notebook: vscode.NotebookDocument): boolean {
  const metadata = notebook.metadata as Record<string, unknown>;
  const custom = isRecord(metadata.custom) ? metadata.custom : {};
  const major = Number(metadata.nbformat ?? custom.nbformat ?? 4);
  const minor = Number(metadata.nbformat_minor ?? custom.nbformat_minor ?? 5);
  return major > 4 || (major === 4 && minor >= 5);
}

async function cellFromArguments(arg: unknown, index: unknown): Promise<vscode.NotebookCell | undefined> {
  if (isNotebookCell(arg)) return arg;
  if (isRecord(arg) && isNotebookCell(arg.cell)) return arg.cell;
  if (arg instanceof vscode.Uri && typeof index === 'number') {
    const notebook = await vscode.workspace.openNotebookDocument(arg);
    if (index < 0 || index >= notebook.cellCount) throw new RefigureError('usage', vscode.l10n.t('The notebook has no cell {0}.', index + 1));
    return notebook.cellAt(index);
  }
  const editor = vscode.window.activeNotebookEditor;
  if (!editor) return undefined;
  const selected = editor.selection;
  return selected.isEmpty ? undefined : editor.notebook.cellAt(selected.start);
}

function resolveNotebookLink(notebook: vscode.NotebookDocument, destination: string): vscode.Uri {
  const target = linkTargetPath(destination);
  if (!target) {
    throw new RefigureError('input', vscode.l10n.t('{0} is not a local file.', destination), vscode.l10n.t('Download the image next to the notebook and link to the file.'));
  }
  if (isAbsolute(target)) return vscode.Uri.file(target);
  if (notebook.uri.scheme !== 'file') throw new RefigureError('input', vscode.l10n.t('Images linked from an unsaved notebook cannot be found; save the notebook first.'));
  return vscode.Uri.file(join(dirname(notebook.uri.fsPath), target));
}

function isNotebookCell(value: unknown): value is vscode.NotebookCell {
  return isRecord(value) && typeof value.index === 'number' && isRecord(value.notebook) && isRecord(value.document) && 'outputs' in value;
}
