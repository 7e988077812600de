// The chat requests this process is answering now, and the work after an acknowledgement that waits
// for a moment without one.
//
// An acknowledgement's latency is its place in the event loop: a request read during a burst waits
// for everything queued before it, and on one thread that includes the work that follows the acks
// already sent — a Slack modal opened and filled, a reply posted, each several times an ack's CPU
// (docs/benchmarks.md, "Issue 17, item 6"). So that work waits until no chat request is in flight,
// and then goes one piece per turn of the event loop, so a request that arrives meanwhile is read
// and answered before the next piece starts. Each piece also has a due time, when it goes whatever
// the load: a Slack trigger id lives 3 s, and a person waiting for a reply should not wait on a
// stream of other people's requests. Off a burst nothing waits: with no request in flight, work goes
// at once. A request counts from when its body has been read (a caller who sends half a request
// holds nothing back) until it is answered, for `countsForMs` at most: a Teams turn that waits
// seconds for Azure is not competing for the event loop meanwhile, and a stream of unsigned
// requests holds work back no longer than its due time.

interface Waiter {
  due: number;
  go: () => void;
}

export interface InboundOptions {
  /** How long one request counts as being answered at most (default 500 ms). */
  countsForMs?: number;
}

export class Inbound {
  private inFlight = 0;
  private readonly countsForMs: number;
  /** Earliest due first. */
  private readonly waiting: Waiter[] = [];
  private releasing = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: InboundOptions = {}) {
    this.countsForMs = opts.countsForMs ?? 500;
  }

  /** A chat request came in. The function returned says it has been answered; calling it again does nothing. */
  enter(): () => void {
    this.inFlight++;
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      clearTimeout(expiry);
      if (--this.inFlight === 0) this.release();
    };
    const expiry = setTimeout(leave, this.countsForMs);
    expiry.unref();
    return leave;
  }

  /** Chat requests being answered now. */
  get answering(): number {
    return this.inFlight;
  }

  /** Work waiting for a quiet moment. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /**
   * Resolves when no chat request is in flight — at once if none is and nothing waits before it —
   * or at `due` (a `performance.now()` time) whatever the load.
   */
  quiet(due: number): Promise<void> {
    if (!this.inFlight && !this.waiting.length) return Promise.resolve();
    return new Promise<void>((go) => {
      let i = this.waiting.length;
      while (i > 0 && this.waiting[i - 1]!.due > due) i--;
      this.waiting.splice(i, 0, { due, go });
      if (this.inFlight) this.arm();
      else this.release();
    });
  }

  private release(): void {
    if (this.releasing || !this.waiting.length) return;
    this.releasing = true;
    setImmediate(this.step);
  }

  /** One turn: whatever is due, and one more if no request is in flight; again next turn while that holds. */
  private readonly step = (): void => {
    const now = performance.now();
    while (this.waiting.length && this.waiting[0]!.due <= now) this.waiting.shift()!.go();
    if (!this.inFlight && this.waiting.length) {
      this.waiting.shift()!.go();
      setImmediate(this.step);
      return;
    }
    this.releasing = false;
    this.arm();
  };

  /** A timer for the earliest due time. */
  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const first = this.waiting[0];
    if (first) this.timer = setTimeout(() => this.release(), Math.max(0, first.due - performance.now()));
  }
}
