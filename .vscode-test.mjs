// `npx vscode-test` (@vscode/test-cli): the integration suite on the code-server host, or on downloaded desktop VS Code with REFIGURE_VSCODE=desktop.
import { defineConfig } from '@vscode/test-cli';
import { repoRoot } from './test/host/install.mjs';
import { codeExecutable, prepareWorkspace } from './test/host/workspace.mjs';

const workspace = prepareWorkspace();
process.on('exit', () => workspace.dispose());

// test-cli loads the configuration through its default export.
export default defineConfig({
  label: 'integration',
  files: 'out/test/integration/**/*.test.js',
  workspaceFolder: workspace.dir,
  mocha: { ui: 'tdd', timeout: 60_000, color: false },
  env: {
    REFIGURE_TEST_WORKSPACE: workspace.dir,
    REFIGURE_TEST_IMAGE: workspace.image,
    REFIGURE_EXPECT_EXTENSION_ROOT: repoRoot,
  },
  ...(process.env.REFIGURE_VSCODE === 'desktop' ? {} : { useInstallation: { fromPath: codeExecutable } }),
});
