/**
 * Where CLI commands write. Commands take a CliIo instead of touching `process` so tests can
 * capture their output and exit codes without spawning a process.
 */
export interface CliIo {
  /** Writes `text` and a newline to standard output (like console.log). */
  stdout(text: string): void;
  /** Writes `text` and a newline to standard error. */
  stderr(text: string): void;
}

export const processIo: CliIo = {
  stdout: (text) => {
    process.stdout.write(`${text}\n`);
  },
  stderr: (text) => {
    process.stderr.write(`${text}\n`);
  },
};

export interface BufferedIo extends CliIo {
  /** Everything written to stdout so far, one line per call. */
  readonly out: string;
  readonly err: string;
}

/** A CliIo that keeps what is written, for tests and for callers that post-process output. */
export function createBufferedIo(): BufferedIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: (text) => void out.push(`${text}\n`),
    stderr: (text) => void err.push(`${text}\n`),
    get out() {
      return out.join("");
    },
    get err() {
      return err.join("");
    },
  };
}
