import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { demoApplication, type DemoApplication } from './demo-application.js';

/** The file in the keys directory that names the demo application the CLI keeps. */
export const DEMO_APPLICATION_FILE = 'demo-application.json';

export interface KeptDemoApplication extends DemoApplication {
  /** Absolute path of the PEM file holding `privateKey` (mode 0600). */
  privateKeyPath: string;
  /** False when this run made it (first run, `--fresh`, or nothing usable was kept). */
  reused: boolean;
}

/** The demo application kept in `dir`, as long as both its files are there and readable. */
function load(dir: string): KeptDemoApplication | undefined {
  const manifest = resolve(dir, DEMO_APPLICATION_FILE);
  if (!existsSync(manifest)) return undefined;
  try {
    const { applicationId } = JSON.parse(readFileSync(manifest, 'utf8')) as {
      applicationId?: unknown;
    };
    if (typeof applicationId !== 'string' || !/^[\w-]{1,64}$/.test(applicationId)) return undefined;
    const privateKeyPath = resolve(dir, `${applicationId}.pem`);
    const kept = demoApplication({ applicationId, privateKey: readFileSync(privateKeyPath) });
    return { ...kept, privateKeyPath, reused: true };
  } catch {
    // A damaged or half-written keys directory is replaced, not fatal.
    return undefined;
  }
}

/**
 * The CLI's demo application: the one kept in `dir` from an earlier run, or a new one written
 * there (`<id>.pem`, mode 0600, and the manifest naming it), so the app's configuration survives
 * a restart of the sandbox.
 */
export function keptDemoApplication(dir: string, fresh: boolean): KeptDemoApplication {
  const kept = fresh ? undefined : load(dir);
  if (kept !== undefined) return kept;
  const made = demoApplication();
  mkdirSync(dir, { recursive: true });
  // The keys directory lands in the user's project: keep its private key out of their commits.
  writeFileSync(resolve(dir, '.gitignore'), '*\n');
  const privateKeyPath = resolve(dir, `${made.applicationId}.pem`);
  writeFileSync(privateKeyPath, made.privateKey, { mode: 0o600 });
  const manifest = `${JSON.stringify({ applicationId: made.applicationId }, null, 2)}\n`;
  writeFileSync(resolve(dir, DEMO_APPLICATION_FILE), manifest);
  return { ...made, privateKeyPath, reused: false };
}
