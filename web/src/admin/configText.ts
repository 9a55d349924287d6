// The configuration editor's helpers (unit-tested in test/admin.test.ts): problems as
// "line:column: message", the lines to highlight, and the changes of a dry run in words.
import type { ConfigChange, ConfigProblem } from "./types";

export function problemText(p: ConfigProblem): string {
  return p.line > 0 ? `${p.line}:${p.column}: ${p.message}` : p.message;
}

/** The 1-based lines that have a problem, each once, in order. */
export function problemLines(problems: ConfigProblem[]): number[] {
  return [...new Set(problems.map((p) => p.line).filter((l) => l > 0))].sort((a, b) => a - b);
}

/** The character range of 1-based `line` in `text` (to select it in the text area). */
export function lineRange(text: string, line: number): [number, number] {
  let start = 0;
  for (let i = 1; i < line; i++) {
    const next = text.indexOf("\n", start);
    if (next < 0) return [text.length, text.length];
    start = next + 1;
  }
  const end = text.indexOf("\n", start);
  return [start, end < 0 ? text.length : end];
}

/** "+ queues billing", "- agents zoe", "~ routing": as `parley config apply` prints them. */
export function changeText(c: ConfigChange): string {
  const sign = c.change === "added" ? "+" : c.change === "removed" ? "-" : "~";
  return `${sign} ${c.section}${c.item ? ` ${c.item}` : ""}`;
}
