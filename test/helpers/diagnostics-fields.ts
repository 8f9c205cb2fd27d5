/** Every field name that a recorded diagnostics event or outcome message had set, sorted. */
export function publishedFields(
  events: readonly { data: Record<string, unknown> }[],
  except: readonly string[] = [],
): string[] {
  const keys = new Set(
    events.flatMap(({ data }) =>
      Object.entries(data)
        .filter(([key, value]) => value !== undefined && !except.includes(key))
        .map(([key]) => key),
    ),
  );
  return [...keys].sort();
}
