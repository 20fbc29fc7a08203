/** The streams and settings a command writes with: colours and the spinner only on a TTY. */
export interface Terminal {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Colours on stdout: a TTY, `NO_COLOR` unset or empty, `TERM` not `dumb`. */
  readonly color: boolean;
  /** stdout is a terminal: text from servers is made harmless before it is shown. */
  readonly outIsTerminal: boolean;
  /** Progress on stderr: only when stderr is a TTY (never on a pipe or a file). */
  readonly progress: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** What {@link createTerminal} reads: the process by default, streams of a test otherwise. */
export interface TerminalStreams {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean | undefined };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean | undefined };
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function createTerminal(streams: TerminalStreams): Terminal {
  // https://no-color.org: present and not empty disables colour, whatever its value.
  const noColor = (streams.env.NO_COLOR ?? "") !== "" || streams.env.TERM === "dumb";
  return {
    out: (text) => streams.stdout.write(text),
    err: (text) => streams.stderr.write(text),
    color: streams.stdout.isTTY === true && !noColor,
    outIsTerminal: streams.stdout.isTTY === true,
    progress: streams.stderr.isTTY === true && streams.env.TERM !== "dumb",
    env: streams.env,
  };
}

/** SGR colours, applied only when the terminal allows them. */
export function paint(terminal: Pick<Terminal, "color">) {
  const sgr = (open: number, close: number) => (text: string) =>
    terminal.color ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  return {
    green: sgr(32, 39),
    red: sgr(31, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
    bold: sgr(1, 22),
    dim: sgr(2, 22),
  };
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * Runs `work` with a spinner named `label` on stderr when it is a TTY; on a pipe it only runs
 * `work`. The first frame is drawn at once (a fast step still shows what it was), the line is
 * cleared when the step ends, and the timer never keeps the process alive.
 */
export async function withSpinner<T>(terminal: Terminal, label: string, work: () => Promise<T>): Promise<T> {
  if (!terminal.progress) return work();
  let frame = 0;
  const draw = () => terminal.err(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${label}`);
  draw();
  const timer = setInterval(draw, 80);
  timer.unref();
  try {
    return await work();
  } finally {
    clearInterval(timer);
    terminal.err("\r\x1b[2K");
  }
}
