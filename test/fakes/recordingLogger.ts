/** Keeps every log line so a test can say what was (or was not) reported. */
import type { Logger } from "../../src/ports/logger";

export type LogLevel = "info" | "warn" | "error";

export class RecordingLogger implements Logger {
  readonly lines: Array<{ level: LogLevel; message: string }> = [];

  info(message: string): void {
    this.lines.push({ level: "info", message });
  }

  warn(message: string): void {
    this.lines.push({ level: "warn", message });
  }

  error(message: string): void {
    this.lines.push({ level: "error", message });
  }

  messages(level: LogLevel): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => line.message);
  }
}
