#!/usr/bin/env node
/** `number-verification-sandbox`: the sandbox as a command (see run-cli.ts for the options). */
import { runCli, USAGE } from './run-cli.js';

runCli(process.argv.slice(2), {
  log: (line) => console.log(line),
  signals: process,
  cwd: process.cwd(),
})
  .then((handle) => handle?.stopped)
  .catch((error: unknown) => {
    console.error(
      `number-verification-sandbox: ${error instanceof Error ? error.message : String(error)}`,
    );
    console.error(USAGE);
    process.exitCode = 2;
  });
