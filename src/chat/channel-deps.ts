// What a channel (Teams or Slack) is built with: the workflow, the watchdog, the command router
// and the job registry, and the stores and queues they share — given at construction, once.
import type { Log } from '../log';
import type { Store } from '../store/store';
import type { FormCatalog } from '../workflow/catalog';
import type { DurableQueue } from '../workflow/durable';
import type { Inbound } from '../workflow/inbound';
import type { JobRegistry } from '../workflow/job-registry';
import type { JobRunner } from '../workflow/jobs';
import type { Workflow } from '../workflow/service';
import type { Watchdog } from '../workflow/watchdog';
import type { CommandRouter } from './router';

export interface ChannelDeps {
  workflow: Workflow;
  watchdog?: Watchdog;
  router: CommandRouter;
  registry: JobRegistry;
  jobs: JobRunner;
  /** The chat requests being answered, counted on each channel's route: work after an ack waits for a quiet moment. */
  inbound: Inbound;
  queue: DurableQueue;
  store: Store;
  catalog: FormCatalog;
  log?: Log;
}
