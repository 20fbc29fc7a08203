// Printing for the demo: one report per flow, a line per fact and a ✓/✗ line per check. Long values
// wrap onto indented lines (at spaces; a word longer than a line after a "/" or where the line
// ends) and are never cut.

export interface Report {
  fact(label: string, value: string): void;
  check(label: string, ok: boolean, detail?: string): boolean;
  readonly failures: number;
}

/** Widest line the demo prints. */
export const WIDTH = 100;
const LABEL = 26;
const INDENT = 2;

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, text: string) => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);

/** Splits `text` into lines of at most `width` characters, breaking at spaces where it can. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    let rest = word;
    for (;;) {
      const gap = line ? 1 : 0;
      if (line.length + gap + rest.length <= width) {
        line = line ? `${line} ${rest}` : rest;
        break;
      }
      if (rest.length <= width) {
        lines.push(line);
        line = rest;
        break;
      }
      // a word longer than a line (a base64 blob, a URL) continues on the next line
      const room = width - line.length - gap;
      if (room < 1) {
        lines.push(line);
        line = "";
        continue;
      }
      // ... after a "/" when there is one (URLs), else where the line ends
      const slash = rest.lastIndexOf("/", room - 1) + 1;
      const cut = slash > room / 2 ? slash : room;
      if (cut < room && line && rest.slice(0, cut).length < 8) {
        lines.push(line);
        line = "";
        continue;
      }
      lines.push(line ? `${line} ${rest.slice(0, cut)}` : rest.slice(0, cut));
      line = "";
      rest = rest.slice(cut);
    }
  }
  lines.push(line);
  return lines;
}

export function startReport(title: string, out: (line: string) => void = console.log): Report {
  out("");
  out(paint(1, title));
  let failures = 0;
  const column = " ".repeat(INDENT + LABEL + 1);
  return {
    fact(label, value) {
      const [first = "", ...rest] = wrap(value, WIDTH - column.length);
      out(`${" ".repeat(INDENT)}${label.padEnd(LABEL)} ${first}`);
      for (const line of rest) out(`${column}${line}`);
    },
    check(label, ok, detail) {
      if (!ok) failures++;
      const mark = ok ? paint(32, "✓") : paint(31, "✗");
      const [first = "", ...rest] = wrap(`${label}${detail ? `  (${detail})` : ""}`, WIDTH - INDENT - 2);
      out(`${" ".repeat(INDENT)}${mark} ${first}`);
      for (const line of rest) out(`${" ".repeat(INDENT + 2)}${line}`);
      return ok;
    },
    get failures() {
      return failures;
    },
  };
}

export const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
