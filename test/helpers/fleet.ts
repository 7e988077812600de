// A fleet of resources that use one key, for the fleet-rotation tests and bench: Fluid Relay servers
// and storage accounts pinned to the key's current version, spread over the simulator's three
// subscriptions (with a resource group in the sandbox subscription where the bot may write).
import { randomUUID } from 'node:crypto';
import {
  BUILTIN_ROLE_IDS,
  resourceGroupResource,
  roleAssignmentResource,
  SIM_BOT_PRINCIPAL_ID,
  SIM_FLUID_CMK,
  SIM_KEY_VERSION_CURRENT,
  SIM_RG_LABS,
  SIM_STORAGE_CMK,
  SIM_SUBSCRIPTION2_ID,
  SIM_SUBSCRIPTION3_ID,
  simFluidRelayId,
  simStorageId,
  type Simulator,
} from '../../src/simulator';
import { cardText, type FakeConnector, firstCard } from './connector';
import { ALICE, cardAction, message, post } from './teams';

/** The sandbox subscription's group for fleet tests: the bot holds Contributor on it. */
export const FLEET_RG_SANDBOX = 'rg-fleet-sandbox';

/**
 * `servers` Fluid Relay servers in the platform subscription (the seeded fr-existing-cmk counts as
 * one), then storage accounts split between the sandbox and labs subscriptions: all pinned to
 * fluid-cmk's current version. Returns their ids in that order.
 */
export function seedFleet(sim: Simulator, counts: { servers: number; sandboxAccounts: number; labsAccounts: number }, prefix = 'fl'): string[] {
  const rg = resourceGroupResource(SIM_SUBSCRIPTION2_ID, FLEET_RG_SANDBOX, 'eastus');
  sim.state.put(rg);
  sim.state.put(roleAssignmentResource({ name: randomUUID(), scope: rg.id, roleGuid: BUILTIN_ROLE_IDS.contributor, principalId: SIM_BOT_PRINCIPAL_ID, principalType: 'ServicePrincipal', createdOn: '2026-01-01T00:00:00Z' }));
  const server = sim.state.get(simFluidRelayId(SIM_FLUID_CMK))!;
  const ids = [server.id];
  for (let i = 1; i < counts.servers; i++) {
    const name = `${prefix}-fr-${i}`;
    const id = simFluidRelayId(name);
    sim.state.put({ ...structuredClone(server), id, name });
    ids.push(id);
  }
  const account = sim.state.get(simStorageId(SIM_STORAGE_CMK))!;
  const accounts = (n: number, sub: string, group: string, tag: string) => {
    for (let i = 0; i < n; i++) {
      const name = `${prefix}${tag}${i}`.replace(/[^a-z0-9]/g, '').slice(0, 24);
      const id = `/subscriptions/${sub}/resourceGroups/${group}/providers/Microsoft.Storage/storageAccounts/${name}`;
      const copy = structuredClone(account);
      const enc = (copy.properties as { encryption: { keyvaultproperties: Record<string, unknown> } }).encryption;
      enc.keyvaultproperties = { ...enc.keyvaultproperties, keyversion: SIM_KEY_VERSION_CURRENT };
      sim.state.put({ ...copy, id, name });
      ids.push(id);
    }
  };
  accounts(counts.sandboxAccounts, SIM_SUBSCRIPTION2_ID, FLEET_RG_SANDBOX, 'sb');
  accounts(counts.labsAccounts, SIM_SUBSCRIPTION3_ID, SIM_RG_LABS, 'lb');
  return ids;
}

/**
 * Alice sends `command` (`rotate-key …`) in `conversation`, and submits the form it opens as the
 * bot filled it in, as the message `formMsg`. The form's inputs are returned; what the request card
 * then says is each caller's to wait for.
 */
export async function submitRotation(appUrl: string, connector: FakeConnector, command: string, formMsg: string, opts: { conversation?: string; timeoutMs?: number } = {}): Promise<{ inputs: Record<string, string> }> {
  const seen = connector.log.length;
  await post(appUrl, message(connector.url, ALICE, command, opts.conversation));
  const form = await connector.waitFor((a) => connector.log.indexOf(a) >= seen && a.kind !== 'update' && /Rotate a key everywhere it is used/.test(cardText(a.activity)), opts.timeoutMs ?? 20_000, 'rotate-key form');
  const card = firstCard(form.activity)!;
  const inputs = Object.fromEntries((card.body as Array<{ id?: string; value?: string }>).filter((b) => b.id).map((b) => [b.id!, b.value ?? '']));
  const submit = (card.actions as Array<{ verb?: string; data?: Record<string, string> }>).find((a) => a.verb === 'form.submit')!;
  const res = await post(appUrl, cardAction(connector.url, ALICE, 'form.submit', { ...submit.data, ...inputs }, formMsg, opts.conversation));
  if (res.status !== 200) throw new Error(`submitting the rotation form answered ${res.status}`);
  return { inputs };
}
