import { createRequire } from 'node:module';
import type Express from 'express';
import type PassportModule from 'passport';

/**
 * Express and Passport for the tests: the versions package.json names by default. The
 * compatibility matrix (.ci/matrix.mjs) picks the older majors with PNV_EXPRESS=4 and
 * PNV_PASSPORT=0.6, installed side by side as npm aliases (`express4`, `passport06`).
 */
const PACKAGES: Record<string, { default: string; choices: Record<string, string> }> = {
  PNV_EXPRESS: { default: 'express', choices: { '5': 'express', '4': 'express4' } },
  PNV_PASSPORT: { default: 'passport', choices: { '0.7': 'passport', '0.6': 'passport06' } },
};

function packageFor(variable: 'PNV_EXPRESS' | 'PNV_PASSPORT'): string {
  const { default: fallback, choices } = PACKAGES[variable] as (typeof PACKAGES)[string];
  const wanted = process.env[variable];
  if (wanted === undefined || wanted === '') return fallback;
  const name = choices[wanted];
  if (name === undefined) {
    throw new Error(`${variable}=${wanted}: expected one of ${Object.keys(choices).join(', ')}`);
  }
  return name;
}

const expressPackage = packageFor('PNV_EXPRESS');
const passportPackage = packageFor('PNV_PASSPORT');
const load = createRequire(import.meta.url);

export const express = load(expressPackage) as typeof Express;
export const { Passport } = load(passportPackage) as typeof PassportModule;

/** The versions these tests run against, e.g. `{ express: '4.21.2', passport: '0.6.0' }`. */
export const frameworkVersions = {
  express: (load(`${expressPackage}/package.json`) as { version: string }).version,
  passport: (load(`${passportPackage}/package.json`) as { version: string }).version,
};
