/**
 * The printed form of a fault matrix (test/hostile/*fault-matrix.test.ts): one Markdown table per
 * `cell.table`, rows × columns, each cell the expected (= observed) outcome. The docs carry these
 * tables, and each matrix checks that they still do.
 */

export type MatrixOutcome =
  | { kind: 'success' }
  | { kind: 'fail'; code: string; status: number }
  | { kind: 'error'; errorClass: string; code: string; status: number | undefined }
  /** The operator never redirects back: the strategy must see no callback and nothing may hang. */
  | { kind: 'no callback'; operator: string };

export interface MatrixCell {
  table: string;
  row: string;
  column: string;
  expected: MatrixOutcome;
}

export function describeOutcome(outcome: MatrixOutcome): string {
  if ('code' in outcome && outcome.code.length > 60) {
    return describeOutcome({
      ...outcome,
      code: `${outcome.code.slice(0, 3)}…(${outcome.code.length} chars)`,
    });
  }
  switch (outcome.kind) {
    case 'success':
      return 'success';
    case 'fail':
      return `fail ${outcome.code} ${outcome.status}`;
    case 'error':
      return `${outcome.errorClass.replace(/Error$/, '')} ${outcome.code}${outcome.status === undefined ? '' : ` ${outcome.status}`}`;
    case 'no callback':
      return `no callback (${outcome.operator})`;
  }
}

export function matrixTables(cells: readonly MatrixCell[]): string[][] {
  const byTable = new Map<string, MatrixCell[]>();
  for (const cell of cells) byTable.set(cell.table, [...(byTable.get(cell.table) ?? []), cell]);
  const tables: string[][] = [];
  for (const [name, group] of byTable) {
    const columns = [...new Set(group.map((c) => c.column))];
    const rows = [...new Set(group.map((c) => c.row))];
    const lines = [
      `| ${name} | ${columns.join(' | ')} |`,
      `| --- | ${columns.map(() => '---').join(' | ')} |`,
    ];
    for (const row of rows) {
      const values = columns.map((column) => {
        const cell = group.find((c) => c.row === row && c.column === column);
        if (cell === undefined) return '';
        const { expected } = cell;
        // In the status × body tables an error's class and status are in the heading.
        return expected.kind === 'error' &&
          String(expected.status) === column &&
          name.includes('status = column')
          ? expected.code
          : describeOutcome(expected);
      });
      lines.push(`| ${row} | ${values.join(' | ')} |`);
    }
    tables.push(lines);
  }
  return tables;
}

/** A Markdown table row without the padding Prettier adds. */
export function normalizeRow(row: string): string {
  return row
    .split('|')
    .map((cell) => cell.trim().replace(/^-+$/, '---'))
    .join('|');
}

/** Every row of `tables` that the Markdown `docs` lacks. */
export function rowsMissingFrom(docs: string, tables: readonly string[][]): string[] {
  const docRows = new Set(
    docs
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .map(normalizeRow),
  );
  return tables.flat().filter((row) => !docRows.has(normalizeRow(row)));
}
