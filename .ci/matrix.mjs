// Compatibility matrix (issue #8): the strategy and state suites (test/strategy, test/state) under
// Node 20, 22 and 24, Express 4 and 5, Passport 0.6 and 0.7, printed as a table.
//
// By default a pairwise subset runs (6 of the 12 cells): every value of every axis runs, and so
// does every pair of values of any two axes. `--full` runs all 12 cells. Other Node versions come
// from the npm registry (`npx -y node@22`); a download that fails is retried, then its cells are
// reported as skipped with the reason — never counted as passed. Any failed cell fails the run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SUITES = ['test/strategy', 'test/state'];
const ATTEMPTS = 3;

const AXES = { node: ['20', '22', '24'], express: ['4', '5'], passport: ['0.6', '0.7'] };
const PAIRWISE = [
  ['20', '4', '0.6'],
  ['20', '5', '0.7'],
  ['22', '4', '0.7'],
  ['22', '5', '0.6'],
  ['24', '4', '0.6'],
  ['24', '5', '0.7'],
];
const cells = process.argv.includes('--full')
  ? AXES.node.flatMap((node) =>
      AXES.express.flatMap((express) => AXES.passport.map((passport) => [node, express, passport])),
    )
  : PAIRWISE;

/** The test helper's switch (test/helpers/frameworks.ts) reads these; the aliases are devDependencies. */
const PACKAGES = {
  express: { 4: 'express4', 5: 'express' },
  passport: { 0.6: 'passport06', 0.7: 'passport' },
};

function installedVersion(name) {
  return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The path of a Node binary of this major: this one, or one npx fetches from the registry. */
async function resolveNode(major) {
  if (process.versions.node.split('.')[0] === major) {
    return { path: process.execPath, version: process.version };
  }
  let reason = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const result = spawnSync(
      'npx',
      ['-y', `node@${major}`, '-p', 'process.execPath + " " + process.version'],
      { encoding: 'utf8', timeout: 300_000 },
    );
    const [path, version] = (result.stdout ?? '').trim().split(' ');
    if (result.status === 0 && path && version?.startsWith(`v${major}.`)) return { path, version };
    reason =
      result.error?.message ??
      (result.stderr || result.stdout || `exit ${result.status}`).trim().split('\n').pop();
    console.log(`node@${major}: attempt ${attempt} of ${ATTEMPTS} failed: ${reason}`);
    if (attempt < ATTEMPTS) await sleep(attempt * 5_000);
  }
  return { skipped: `node@${major} could not be downloaded after ${ATTEMPTS} attempts: ${reason}` };
}

function runCell(node, express, passport) {
  const dir = mkdtempSync(join(tmpdir(), 'pnv-matrix-'));
  const report = join(dir, 'report.json');
  const started = Date.now();
  const result = spawnSync(
    node.path,
    [
      join(root, 'node_modules/vitest/vitest.mjs'),
      'run',
      ...SUITES,
      '--reporter=json',
      `--outputFile=${report}`,
    ],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 900_000,
      // CI unset: the cell writes its own report, not the suite's test-results/unit.json.
      env: { ...process.env, CI: '', PNV_EXPRESS: express, PNV_PASSPORT: passport },
    },
  );
  const seconds = Math.round((Date.now() - started) / 1000);
  let json;
  try {
    json = JSON.parse(readFileSync(report, 'utf8'));
  } catch {
    json = undefined;
  }
  rmSync(dir, { recursive: true, force: true });
  if (json === undefined) {
    const output = `${result.stderr ?? ''}${result.stdout ?? ''}`.trim();
    return { passed: 0, failed: 1, seconds, failures: [`no report: ${output.slice(-2000)}`] };
  }
  const failures = json.testResults.flatMap((file) => {
    const tests = file.assertionResults
      .filter((test) => test.status === 'failed')
      .map((test) => `${test.fullName}: ${(test.failureMessages[0] ?? '').split('\n')[0]}`);
    // A file that failed to load has no failed test of its own.
    return tests.length === 0 && file.status === 'failed'
      ? [`${file.name}: ${file.message}`]
      : tests;
  });
  if (result.status !== 0 && failures.length === 0) failures.push(`vitest exited ${result.status}`);
  return { passed: json.numPassedTests, failed: failures.length, seconds, failures };
}

const nodes = new Map();
const rows = [];
const totals = { passed: 0, failed: 0, skipped: 0 };
console.log(
  `Compatibility matrix: ${SUITES.join(' + ')}, ${cells.length} cells` +
    (cells.length < 12 ? ' (pairwise subset; --full runs all 12)' : ''),
);
for (const [major, expressMajor, passportMinor] of cells) {
  if (!nodes.has(major)) nodes.set(major, await resolveNode(major));
  const node = nodes.get(major);
  const expressVersion = installedVersion(PACKAGES.express[expressMajor]);
  const passportVersion = installedVersion(PACKAGES.passport[passportMinor]);
  const row = {
    node: node.version ?? `${major}.x`,
    express: expressVersion,
    passport: passportVersion,
  };
  if (node.skipped) {
    totals.skipped++;
    rows.push({ ...row, result: `SKIPPED: ${node.skipped}`, tests: '', time: '' });
    continue;
  }
  const outcome = runCell(node, expressMajor, passportMinor);
  totals.passed += outcome.passed;
  totals.failed += outcome.failed;
  const result = outcome.failed === 0 && outcome.passed > 0 ? 'passed' : 'FAILED';
  console.log(`${row.node} × express ${row.express} × passport ${row.passport}: ${result}`);
  for (const failure of outcome.failures) console.log(`  ✗ ${failure}`);
  rows.push({
    ...row,
    result,
    tests: `${outcome.passed} passed, ${outcome.failed} failed`,
    time: `${outcome.seconds} s`,
  });
}

const header = {
  node: 'Node',
  express: 'Express',
  passport: 'Passport',
  result: 'result',
  tests: 'tests',
  time: 'time',
};
const columns = Object.keys(header);
const widths = columns.map((column) =>
  Math.max(...[header, ...rows].map((row) => String(row[column]).length)),
);
const line = (row) =>
  `| ${columns.map((column, i) => String(row[column]).padEnd(widths[i])).join(' | ')} |`;
console.log(
  [
    '',
    line(header),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n'),
);
const badCells = rows.filter((row) => row.result === 'FAILED').length;
console.log(
  `\nmatrix: ${rows.length - badCells - totals.skipped} cells passed, ${badCells} failed, ${totals.skipped} skipped; ` +
    `${totals.passed} tests passed, ${totals.failed} failed`,
);
if (process.env.CI) {
  // .ci/summarize.mjs adds this up with the other suites' reports.
  mkdirSync(join(root, 'test-results'), { recursive: true });
  writeFileSync(
    join(root, 'test-results/matrix.json'),
    JSON.stringify({ numPassedTests: totals.passed, numFailedTests: totals.failed }),
  );
}
process.exitCode = badCells === 0 && rows.length > totals.skipped ? 0 : 1;
