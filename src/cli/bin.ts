// Entry point of dist/cli.js: runs the command and sets the exit code.
import { main, reportError } from './main';
import { processIo } from './io';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = reportError(error, processIo());
  },
);
