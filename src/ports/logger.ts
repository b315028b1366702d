/** Port: where the monitor's one-line operational messages go (the Functions host's log, or the console). */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
