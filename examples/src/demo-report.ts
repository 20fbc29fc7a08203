// Printing for the demo: one report per flow, a line per fact and a ✓/✗ line per check.

export interface Report {
  fact(label: string, value: string): void;
  check(label: string, ok: boolean, detail?: string): boolean;
  readonly failures: number;
}

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, text: string) => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);

export function startReport(title: string, out: (line: string) => void = console.log): Report {
  out("");
  out(paint(1, title));
  let failures = 0;
  return {
    fact(label, value) {
      out(`  ${label.padEnd(22)} ${value}`);
    },
    check(label, ok, detail) {
      if (!ok) failures++;
      out(`  ${ok ? paint(32, "✓") : paint(31, "✗")} ${label}${detail ? paint(2, `  (${detail})`) : ""}`);
      return ok;
    },
    get failures() {
      return failures;
    },
  };
}

export const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
export const short = (text: string, max = 100) => (text.length > max ? `${text.slice(0, max)}…` : text);
