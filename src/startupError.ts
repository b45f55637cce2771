/**
 * A start-up failure the operator can fix: printed as one line naming the setting and what to
 * do, and the process exits 2 (as for the settings parser's errors), never with a stack trace.
 */
export class StartupError extends Error {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`${setting}: ${problem}`);
    this.name = 'StartupError';
  }
}
