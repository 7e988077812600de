// The payloads of the channels' durable jobs, parsed by zod when a job runs (workflow/job-registry.ts):
// what a job row holds is outside input by the time it is read back.
import { z } from 'zod';
import type { Actor } from '../domain/types';

export const actorSchema: z.ZodType<Actor> = z.object({
  platform: z.enum(['teams', 'slack']),
  id: z.string(),
  tenant: z.string().optional(),
  name: z.string(),
  channelUserId: z.string().optional(),
});

/** Form data as a job carries it: field → value as submitted (the target's schema parses it again). */
export const formDataSchema = z.record(z.string(), z.unknown());
