import type { ViteUserConfig } from 'vitest/config';

type Reporters = NonNullable<NonNullable<ViteUserConfig['test']>['reporters']>;

/**
 * The console reporter everywhere; under CI also a JSON report per suite in test-results/, which
 * .ci/summarize.mjs adds up into one closing "N passed, N failed" line.
 */
export function reporters(suite: string): Reporters {
  if (!process.env.CI) return ['default'];
  return ['default', ['json', { outputFile: `test-results/${suite}.json` }]];
}
