// Prometheus metrics through prom-client (https://github.com/siimon/prom-client): counters and
// latency histograms for what operators ask first — requests, check outcomes, ARM calls and their
// latency, queued work — plus the library's default process and Node.js metrics (CPU, resident
// memory, heap, event-loop lag, GC, open handles).
import { collectDefaultMetrics, Counter as PromCounter, Gauge as PromGauge, Histogram as PromHistogram, Registry } from 'prom-client';

type Labels = Record<string, string>;

/** Labels in name order, so a series reads the same whichever order the caller wrote them in. */
const sorted = (l: Labels): Labels => Object.fromEntries(Object.entries(l).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

const BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// Process and Node metrics describe the process, not one app: collected once, into their own
// registry (several apps in one process — the tests — would otherwise register them twice).
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

class Counter {
  constructor(private readonly metric: PromCounter) {}
  inc(labels: Labels = {}, by = 1) {
    this.metric.inc(sorted(labels), by);
  }
}

class Histogram {
  constructor(private readonly metric: PromHistogram) {}
  observe(labels: Labels, seconds: number) {
    this.metric.observe(sorted(labels), seconds);
  }
}

/** A value per label set, set (not added to): the findings of the last scan by severity. */
class LabeledGauge {
  constructor(private readonly metric: PromGauge) {}
  set(labels: Labels, value: number) {
    this.metric.set(sorted(labels), value);
  }
}

export class Metrics {
  private readonly registry = new Registry();
  readonly httpRequests = new Counter(new PromCounter({ name: 'cmk_http_requests_total', help: 'HTTP requests by route and status.', labelNames: ['method', 'route', 'status'], registers: [this.registry] }));
  readonly checkOutcomes = new Counter(new PromCounter({ name: 'cmk_check_results_total', help: 'Prerequisite check results by check id and status.', labelNames: ['check', 'status'], registers: [this.registry] }));
  readonly armCalls = new Counter(new PromCounter({ name: 'cmk_arm_calls_total', help: 'Azure Resource Manager calls by method and status.', labelNames: ['method', 'status'], registers: [this.registry] }));
  readonly armLatency = new Histogram(new PromHistogram({ name: 'cmk_arm_call_duration_seconds', help: 'Azure Resource Manager call latency.', labelNames: ['method'], buckets: BUCKETS, registers: [this.registry] }));
  readonly watchFindings = new LabeledGauge(new PromGauge({ name: 'cmk_watch_findings', help: 'Open watchdog findings by severity, as of the last scan.', labelNames: ['severity'], registers: [this.registry] }));
  readonly watchScanDuration = new Histogram(new PromHistogram({ name: 'cmk_watch_scan_duration_seconds', help: 'Watchdog scan duration.', buckets: BUCKETS, registers: [this.registry] }));
  /** The Content-Type of render()'s text (Prometheus text format 0.0.4). */
  readonly contentType = this.registry.contentType;

  /** Gauges read when scraped (queue depth, jobs running). */
  constructor(gauges: Record<string, { help: string; read: () => number }> = {}) {
    for (const [name, g] of Object.entries(gauges)) {
      new PromGauge({
        name,
        help: g.help,
        registers: [this.registry],
        collect() {
          this.set(g.read());
        },
      });
    }
  }

  async render(): Promise<string> {
    return `${await this.registry.metrics()}\n${await processMetrics().metrics()}`;
  }
}
