/** The fenced code block right after an HTML comment marker such as `<!-- quickstart:esm -->`. */
export function codeBlockAfter(markdown: string, marker: string): string {
  const at = markdown.indexOf(`<!-- ${marker} -->`);
  const block = /```\w*\n([\s\S]*?)```/.exec(markdown.slice(at));
  if (at === -1 || block?.[1] === undefined) throw new Error(`no code block after ${marker}`);
  return block[1];
}
