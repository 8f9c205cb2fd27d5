import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Tarball {
  /** Absolute path of the .tgz. */
  path: string;
  /** Paths inside the package, as npm lists them. */
  files: string[];
}

/**
 * Packs the package as `npm publish` would. `dist/` must be built already (`npm run build`):
 * `--ignore-scripts` skips the prepack build, so the tarball holds exactly what the suite built.
 */
export function packTarball(): Tarball {
  const destination = mkdtempSync(join(tmpdir(), 'pnv-pack-'));
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], {
      cwd: root,
      encoding: 'utf8',
    }),
  ) as { filename: string; files: { path: string }[] }[];
  if (!packed) throw new Error('npm pack produced nothing');
  return { path: join(destination, packed.filename), files: packed.files.map((file) => file.path) };
}

/**
 * A fresh project in a temporary directory with `packages` installed the way a user would
 * (`npm install <tarball> jest@30 …`); `packageJson` is merged into its package.json.
 */
export function createConsumer(
  name: string,
  packages: string[],
  packageJson: Record<string, unknown> = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), `pnv-${name}-`));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name, private: true, ...packageJson }, null, 2),
  );
  execFileSync(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...packages],
    { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return dir;
}
