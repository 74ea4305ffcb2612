// The typed reader of Refigure's settings; changes take effect without a reload.
import * as vscode from 'vscode';
import type { CaptionStyle, PresetName } from '../core/types';
import { Disposable } from './dispose';

export interface RefigureSettings {
  endpoint: string;
  model: string;
  preset: PresetName;
  pythonPath: string;
  renderTimeoutSeconds: number;
  captionStyle: CaptionStyle;
  sandbox: 'auto' | 'require-isolation';
  refineRounds: number;
}

export type SettingKey = keyof RefigureSettings;

const keys: SettingKey[] = ['endpoint', 'model', 'preset', 'pythonPath', 'renderTimeoutSeconds', 'captionStyle', 'sandbox', 'refineRounds'];

export function readSettings(config: vscode.WorkspaceConfiguration = vscode.workspace.getConfiguration('refigure')): RefigureSettings {
  return {
    endpoint: str(config.get('endpoint')),
    model: str(config.get('model')),
    preset: oneOf(config.get('preset'), ['codepercept', 'generic'] as const, 'codepercept'),
    pythonPath: str(config.get('pythonPath')),
    renderTimeoutSeconds: num(config.get('renderTimeoutSeconds'), 30, 1, 600),
    captionStyle: oneOf(config.get('captionStyle'), ['alt', 'caption', 'detailed'] as const, 'caption'),
    sandbox: oneOf(config.get('sandbox'), ['auto', 'require-isolation'] as const, 'auto'),
    refineRounds: Math.round(num(config.get('refineRounds'), 0, 0, 10)),
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

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return allowed.includes(value as T) ? (value as T) : fallback;
}
