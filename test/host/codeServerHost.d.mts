// Types of codeServerHost.mjs, for the TypeScript tests that drive the host.
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';

export type VsCodeVersionKey = '1.139' | '1.100';

export interface StartOptions {
  /** '1.139' (default, or REFIGURE_VSCODE_VERSION) or '1.100' (engines.vscode's minimum). */
  version?: VsCodeVersionKey;
  /** Added to the environment the server, and so the extension host, inherits. */
  env?: Record<string, string>;
  /** Keep workspace trust on (default: off, as `--disable-workspace-trust`). */
  trust?: boolean;
  /** Use this extensions folder (e.g. with a vsix installed) instead of a fresh empty one. */
  extensionsDir?: string;
  /** User settings merged over the host's quiet defaults. */
  settings?: Record<string, unknown>;
  startTimeoutMs?: number;
  keepScratch?: boolean;
}

export interface CodeServer {
  readonly version: string;
  readonly codeServerVersion: string;
  readonly pid: number;
  readonly port: number;
  readonly origin: string;
  readonly scratch: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

export interface WorkbenchTarget {
  folder?: string;
  extensionDevelopmentPath?: string;
  extensionTestsPath?: string;
}

export interface OpenOptions extends WorkbenchTarget {
  viewport?: { width: number; height: number };
  readyTimeoutMs?: number;
  onAutomationLog?: (type: string, args: unknown[]) => void;
  onAutomationExit?: (code: number) => void;
  onConsole?: (message: ConsoleMessage) => void;
  onPageError?: (error: Error) => void;
}

export interface Workbench {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export interface RunOptions extends StartOptions {
  folder?: string;
  /** The checkout by default; null runs against installed extensions only. */
  extensionDevelopmentPath?: string | null;
  extensionTestsPath: string;
  timeoutMs?: number;
}

export const repoRoot: string;
export const resultsDir: string;
export const defaultVersion: VsCodeVersionKey;
export function startCodeServer(options?: StartOptions): Promise<CodeServer>;
export function workbenchUrl(server: CodeServer, target?: WorkbenchTarget): string;
export function openWorkbench(server: CodeServer, options?: OpenOptions): Promise<Workbench>;
export function runExtensionTests(options: RunOptions): Promise<number>;
export function installVsix(vsixPath: string, extensionsDir: string, options?: { version?: VsCodeVersionKey }): string;
