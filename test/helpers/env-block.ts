/** The `export NAME=value` lines the sandbox CLI prints, as a map (values as the shell reads them). */
export function parseEnvironmentBlock(lines: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    lines.flatMap((line) => {
      const match = /^export ([A-Z_]+)=(\S+)$/.exec(line);
      return match?.[1] === undefined || match[2] === undefined ? [] : [[match[1], match[2]]];
    }),
  );
}
