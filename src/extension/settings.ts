// The typed reader of Refigure's settings; changes take effect without a reload.
import * as vscode from 'vscode';
import type { CaptionStyle, PresetName } from '../core/types';
import { presetNames } from '../core/reconstruct/presets';
import { captionStyles } from '../core/reconstruct/caption';
import { defaultTarget } from '../core/reconstruct/refine';
import { oneOf } from '../shared/values';
import { Disposable } from './dispose';

export interface RefigureSettings {
  endpoint: string;
  model: string;
  preset: PresetName;
  pythonPath: string;
  renderTimeoutSeconds: number;
  captionStyle: CaptionStyle;
  /** Rendering with no kernel-enforced layer is never a setting: it is a per-workspace answer (services.ts). */
  sandbox: ExtensionSandboxMode;
  refineRounds: number;
  /** Independent first answers (the CLI's `--candidates`). */
  candidates: number;
  /** The fidelity that ends automatic refinement (the CLI's `--target`). */
  target: number;
}

export type SettingKey = keyof RefigureSettings;

const extensionSandboxModes = ['auto', 'require-isolation'] as const;
export type ExtensionSandboxMode = (typeof extensionSandboxModes)[number];

const keys: SettingKey[] = ['endpoint', 'model', 'preset', 'pythonPath', 'renderTimeoutSeconds', 'captionStyle', 'sandbox', 'refineRounds', 'candidates', 'target'];

export function readSettings(config: vscode.WorkspaceConfiguration = vscode.workspace.getConfiguration('refigure')): RefigureSettings {
  return {
    endpoint: str(config.get('endpoint')),
    model: str(config.get('model')),
    preset: oneOf(config.get('preset'), presetNames) ?? 'codepercept',
    pythonPath: str(config.get('pythonPath')),
    renderTimeoutSeconds: num(config.get('renderTimeoutSeconds'), 30, 1, 600),
    captionStyle: oneOf(config.get('captionStyle'), captionStyles) ?? 'caption',
    sandbox: oneOf(config.get('sandbox'), extensionSandboxModes) ?? 'auto',
    refineRounds: Math.round(num(config.get('refineRounds'), 0, 0, 10)),
    candidates: Math.round(num(config.get('candidates'), 1, 1, 8)),
    target: num(config.get('target'), defaultTarget, 0, 1),
  };
}

/** The current settings, re-read when any `refigure.*` setting changes; listeners hear which keys changed. */
export class Settings extends Disposable {
  private value = readSettings();
  private readonly emitter = this._register(new vscode.EventEmitter<ReadonlySet<SettingKey>>());
  readonly onDidChange = this.emitter.event;

  constructor() {
    super();
    this._register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (!event.affectsConfiguration('refigure')) return;
        const changed = new Set(keys.filter((key) => event.affectsConfiguration(`refigure.${key}`)));
        this.value = readSettings();
        if (changed.size) this.emitter.fire(changed);
      }),
    );
  }

  get current(): RefigureSettings {
    return this.value;
  }
}

function str(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

function num(value: unknown, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}
