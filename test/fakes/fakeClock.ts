/** A clock that moves only when the test moves it; minutes count from where it started. */
import type { Clock } from "../../src/ports/clock";

const MINUTE_IN_MS = 60_000;

export class FakeClock implements Clock {
  private current: Date;

  constructor(readonly start: Date = new Date("2026-11-29T07:00:00.000Z")) {
    this.current = new Date(start);
  }

  now(): Date {
    return new Date(this.current);
  }

  set(at: Date): void {
    this.current = new Date(at);
  }

  advance(minutes: number): void {
    this.current = new Date(this.current.getTime() + minutes * MINUTE_IN_MS);
  }

  /** `minute` minutes after the start. */
  atMinute(minute: number): Date {
    return new Date(this.start.getTime() + minute * MINUTE_IN_MS);
  }

  /** Whole minutes since the start. */
  minute(): number {
    return Math.floor((this.current.getTime() - this.start.getTime()) / MINUTE_IN_MS);
  }
}
