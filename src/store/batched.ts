// Calls that arrive together, run as one (a group commit). On embedded PGlite a statement's cost is
// mostly fixed — it parses and plans each one, on the thread that answers — so under a burst one
// statement for the calls read in the same turn of the event loop (and for those that arrive while
// it runs) costs each call a fraction of its own statement; on PostgreSQL it saves the round trips.
// One batch runs at a time.

interface Call<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (e: unknown) => void;
}

export class Batched<I, O> {
  private pending: Array<Call<I, O>> = [];
  private running: Promise<void> | undefined;

  /** `run` answers each input of a batch, in order; if it throws, every call in the batch fails with its error. */
  constructor(private readonly run: (inputs: I[]) => Promise<O[]>) {}

  call(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      void this.drain();
    });
  }

  /** Resolves once no call is waiting or running (the store closing after the last answers are recorded). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private drain(): Promise<void> {
    this.running ??= (async () => {
      try {
        // The rest of this turn's calls join the first. This wait also comes before anything can
        // end the loop: `running` is assigned before its `finally` runs.
        await new Promise((r) => setImmediate(r));
        while (this.pending.length) {
          const batch = this.pending;
          this.pending = [];
          try {
            const outputs = await this.run(batch.map((c) => c.input));
            if (outputs.length !== batch.length) throw new Error(`a batch of ${batch.length} calls was answered with ${outputs.length}`);
            batch.forEach((c, i) => c.resolve(outputs[i]!));
          } catch (e) {
            for (const c of batch) c.reject(e);
          }
        }
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
