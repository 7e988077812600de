// One registry of durable job kinds: each kind names the zod schema of its payload, and its
// handler gets the parsed payload — never a cast. A payload that does not parse fails the job for
// good (a retry would read the same row) with one log line naming the kind and what was wrong.
// Define every kind, then `wire(queue)` once at start-up (src/app.ts).
import type { z } from 'zod';
import type { JobContext, JobHandler, JobSpec } from './durable';

type Log = (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

export interface JobDefinition<S extends z.ZodTypeAny = z.ZodTypeAny> {
  kind: string;
  schema: S;
  handler: (payload: z.output<S>, ctx: JobContext) => Promise<void>;
}

/** A job kind with a typed payload; `spec()` builds a job of it for `enqueue` or `Store.mutate`'s `jobs`. */
export interface DefinedJob<S extends z.ZodTypeAny = z.ZodTypeAny> extends JobDefinition<S> {
  spec(payload: z.input<S>, opts: Omit<JobSpec, 'kind' | 'payload'>): JobSpec;
}

export function defineJob<S extends z.ZodTypeAny>(def: JobDefinition<S>): DefinedJob<S> {
  return { ...def, spec: (payload, opts) => ({ ...opts, kind: def.kind, payload: payload as Record<string, unknown> }) };
}

/** Thrown into the queue for a payload that does not match its kind's schema: no retry helps. */
export class JobPayloadError extends Error {
  readonly code = 'job_payload_invalid';
  /** The queue fails the job at once instead of retrying it. */
  readonly permanent = true;
  constructor(
    readonly kind: string,
    readonly issues: string[],
  ) {
    super(`job ${kind}: its payload does not match the schema (${issues.join('; ')})`);
  }
}

export function isJobPayloadError(e: unknown): e is JobPayloadError {
  return e instanceof JobPayloadError || (e as { code?: unknown } | null)?.code === 'job_payload_invalid';
}

/** What the registry needs of a queue. */
export interface JobQueue {
  handle(kind: string, handler: JobHandler): void;
}

export class JobRegistry {
  /** Each kind's handler as the queue sees it: parse, then run the definition's handler. */
  private readonly handlers = new Map<string, JobHandler>();
  private queue?: JobQueue;

  constructor(private readonly log: Log = () => undefined) {}

  /** Add job kinds. A kind is defined once; a second definition is a programming error. */
  define<T extends z.ZodTypeAny[]>(...defs: { [K in keyof T]: JobDefinition<T[K]> }): this {
    for (const def of defs) this.add(def);
    return this;
  }

  /** Give the queue a handler for every kind (and for kinds defined later). Called once. */
  wire(queue: JobQueue): void {
    if (this.queue) throw new Error('the job registry is already wired to a queue');
    this.queue = queue;
    for (const [kind, handler] of this.handlers) queue.handle(kind, handler);
  }

  kinds(): string[] {
    return [...this.handlers.keys()];
  }

  private add<S extends z.ZodTypeAny>(def: JobDefinition<S>): void {
    if (this.handlers.has(def.kind)) throw new Error(`job kind ${def.kind} is defined twice`);
    // Parse, then run: what the handler sees is what the schema produced.
    const handler: JobHandler = async (raw, ctx) => {
      const parsed = def.schema.safeParse(raw);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`);
        this.log('error', 'job payload does not match its schema; the job fails without retrying', { kind: def.kind, jobId: ctx.jobId, issues });
        throw new JobPayloadError(def.kind, issues);
      }
      await def.handler(parsed.data, ctx);
    };
    this.handlers.set(def.kind, handler);
    this.queue?.handle(def.kind, handler);
  }
}
