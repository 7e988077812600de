// Prometheus text exposition without a client library: counters and a latency histogram for what
// operators ask first — requests, check outcomes, ARM calls and their latency, queued work.
type Labels = Record<string, string>;

const key = (l: Labels) =>
  Object.keys(l)
    .sort()
    .map((k) => `${k}="${String(l[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');

class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1) {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`, ...[...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${v}`)];
  }
}

const BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  observe(labels: Labels, seconds: number) {
    const k = key(labels);
    const s = this.series.get(k) ?? { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) s.counts[i]!++;
    });
    s.sum += seconds;
    s.count++;
    this.series.set(k, s);
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : '';
      BUCKETS.forEach((b, i) => out.push(`${this.name}_bucket{${sep}le="${b}"} ${s.counts[i]}`));
      out.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`, `${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`, `${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return out;
  }
}

/** A value per label set, set (not added to): the findings of the last scan by severity. */
class LabeledGauge {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  set(labels: Labels, value: number) {
    this.values.set(key(labels), value);
  }
  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, ...[...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${v}`)];
  }
}

export class Metrics {
  readonly httpRequests = new Counter('cmk_http_requests_total', 'HTTP requests by route and status.');
  readonly checkOutcomes = new Counter('cmk_check_results_total', 'Prerequisite check results by check id and status.');
  readonly armCalls = new Counter('cmk_arm_calls_total', 'Azure Resource Manager calls by method and status.');
  readonly armLatency = new Histogram('cmk_arm_call_duration_seconds', 'Azure Resource Manager call latency.');
  readonly watchFindings = new LabeledGauge('cmk_watch_findings', 'Open watchdog findings by severity, as of the last scan.');
  readonly watchScanDuration = new Histogram('cmk_watch_scan_duration_seconds', 'Watchdog scan duration.');

  constructor(private readonly gauges: Record<string, { help: string; read: () => number }> = {}) {}

  render(): string {
    const lines = [...this.httpRequests.render(), ...this.checkOutcomes.render(), ...this.armCalls.render(), ...this.armLatency.render(), ...this.watchFindings.render(), ...this.watchScanDuration.render()];
    for (const [name, g] of Object.entries(this.gauges)) lines.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`, `${name} ${g.read()}`);
    return `${lines.join('\n')}\n`;
  }
}
