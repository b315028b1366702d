/** Port: the time. Injected everywhere so the lifecycle and the tests decide from a given "now". */
export interface Clock {
  now(): Date;
}
