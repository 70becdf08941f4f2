/**
 * The kubelet's container restart back-off (client-go flowcontrol.Backoff, keyed by container): the first restart
 * after a failure is immediate, each further one waits the base delay (10 s), then twice as long, up to five
 * minutes; a container that has not failed for twice the maximum starts over.
 */
export class RestartBackoff {
  private delayMs: number;
  private lastFailureMs: number | undefined;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs = 300_000,
  ) {
    this.delayMs = baseMs;
  }

  /** How long to wait before restarting a container that exited at `exitMs`. */
  next(exitMs: number): number {
    if (this.lastFailureMs === undefined || exitMs - this.lastFailureMs > 2 * this.maxMs) {
      this.lastFailureMs = exitMs;
      this.delayMs = this.baseMs;
      return 0;
    }
    this.lastFailureMs = exitMs;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.maxMs);
    return delay;
  }
}
