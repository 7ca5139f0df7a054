/**
 * What the documentation tests read from a markdown page: its headings as GitHub anchors, and its
 * links. Fenced code blocks are skipped (a `#` comment in a shell block is not a heading).
 */

/** The lines of `markdown` outside fenced code blocks. */
function proseLines(markdown: string): string[] {
  const lines: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    else if (!fenced) lines.push(line);
  }
  return lines;
}

/** A heading's text as GitHub makes its anchor: lower case, punctuation dropped, spaces to hyphens. */
export function anchorOf(heading: string): string {
  const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').trim().toLowerCase();
  return text.replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '').replace(/\s/g, '-');
}

/** Every heading of the page: its level (1 for `#`), text and anchor (GitHub's `-1`, `-2` for repeats). */
export function headings(markdown: string): Array<{ level: number; text: string; anchor: string }> {
  const seen = new Map<string, number>();
  const found: Array<{ level: number; text: string; anchor: string }> = [];
  for (const line of proseLines(markdown)) {
    const match = /^(#{1,6})\s+(.*?)\s*#*$/.exec(line);
    if (match === null) continue;
    const text = match[2] ?? '';
    const base = anchorOf(text);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.push({ level: (match[1] ?? '').length, text, anchor: count === 0 ? base : `${base}-${count}` });
  }
  return found;
}

/** Every inline link target of the page, in order (`[text](target)`, images included). */
export function links(markdown: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(markdown)) {
    for (const match of line.matchAll(/\]\(([^)\s]+)\)/g)) targets.push(match[1] ?? '');
  }
  return targets;
}
