/**
 * The example imports the package by its name, which resolves (through package.json `exports`)
 * to the build in dist/. On a fresh clone there is no dist/ yet, and after editing lib/ it is
 * stale, so the scripts build first when needed. Uses only node: modules, because the package
 * itself cannot be imported before it is built.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The build outputs the example needs: the strategy and the sandbox. */
const OUTPUTS = ['dist/index.js', 'dist/sandbox/index.js'];
/** Inputs of the build: a change in any of them makes dist/ stale. */
const INPUTS = ['lib', 'tsup.config.ts', 'tsconfig.build.json', 'package.json'];

function newestModification(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    newest = Math.max(newest, newestModification(join(path, entry)));
  }
  return newest;
}

function oldestOutput() {
  try {
    return Math.min(...OUTPUTS.map((output) => statSync(join(root, output)).mtimeMs));
  } catch {
    return -Infinity; // an output is missing
  }
}

export function buildIsCurrent() {
  const newestInput = Math.max(...INPUTS.map((input) => newestModification(join(root, input))));
  return oldestOutput() >= newestInput;
}

/** Runs `npm run build` unless dist/ is present and newer than every input. */
export function ensureBuild({ log = console.log } = {}) {
  if (buildIsCurrent()) return;
  log('Building the package (dist/ is missing or older than lib/) ...');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', '--silent', 'build'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    shell: process.platform === 'win32',
  });
  if (result.status !== 0) {
    throw new Error(`npm run build failed (exit ${result.status ?? result.signal})`);
  }
}
