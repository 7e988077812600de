// In-process background work after the chat turn has been answered. Keyed, so the same job is
// never run twice at once in this process; the state machine (row lock on approved → executing)
// is what guarantees one execution across processes.
export class JobRunner {
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(private readonly onError: (key: string, e: unknown) => void = () => undefined) {}

  enqueue(key: string, fn: () => Promise<unknown>): void {
    if (this.running.has(key)) return;
    const p = (async () => {
      // Let the current turn answer first.
      await new Promise((r) => setImmediate(r));
      await fn();
    })()
      .catch((e) => this.onError(key, e))
      .finally(() => this.running.delete(key));
    this.running.set(key, p);
  }

  get size(): number {
    return this.running.size;
  }

  /** Wait until no job is running (tests, graceful shutdown). */
  async drain(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running.values()]);
  }
}
