// The bot's own rights, read from ARM's permissions API, so a missing right fails before anyone
// approves rather than after.
import { providerOf } from '../facts';
import { grants } from '../rbac';
import { defineCheck, fail, info, pass } from '../types';

const ASSIGN = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action';

/**
 * The bot may make the write: `action` at the resource's resource group (e.g.
 * Microsoft.FluidRelay/fluidRelayServers/write) and assigning the CMK identity. `action: null`: a
 * read-only review, which writes nothing.
 */
export function botCanWrite({ action }: { action: string | null }) {
  return defineCheck({
    id: 'bot.can-write',
    title: 'The bot may make this change',
    needs: ['botRightsAtTarget', 'botRightsAtIdentity'],
    evaluate: ({ botRightsAtTarget, botRightsAtIdentity }, { subject }) => {
      if (!action) return info('Read-only review: no write needed.');
      const rg = subject.resourceId.split('/').slice(0, 5).join('/');
      const canWrite = grants(botRightsAtTarget, action, 'control');
      const canAssign = grants(botRightsAtIdentity, ASSIGN, 'control');
      const evidence = { writeAction: action, canWrite, canAssign, scope: rg };
      const missing = [!canWrite ? `${action} at ${rg}` : null, !canAssign ? `${ASSIGN} on ${subject.identityId.split('/').pop()}` : null].filter(Boolean);
      if (missing.length) {
        return fail(
          `The bot's identity lacks ${missing.join(' and ')}, so Azure would refuse the change after approval.`,
          `Give the bot's identity the cmk-chatops role (docs/operations.md) at ${rg}${canAssign ? '' : ` and "Managed Identity Operator" on ${subject.identityId}`}.`,
          evidence,
        );
      }
      return pass('The bot may write the resource and assign the identity.', evidence);
    },
  });
}

/**
 * The target's resource provider must be registered in its subscription, or ARM answers the write
 * with 409 MissingSubscriptionRegistration — after everyone approved. Registering is a
 * subscription-level action the bot's role does not hold, so the remedy is for a person.
 */
export const providerRegistered = defineCheck({
  id: 'provider.registered',
  title: 'The subscription has the resource provider registered',
  needs: ['provider'],
  evaluate: ({ provider }, { subject }) => {
    const p = providerOf(subject.resourceId);
    if (!p) return info('The resource id names no resource provider to look up.', { resourceId: subject.resourceId });
    const state = provider?.registrationState ?? 'Unknown';
    const evidence = { namespace: provider?.namespace ?? p.namespace, subscriptionId: p.subscriptionId, registrationState: state };
    if (state.toLowerCase() === 'registered') return pass(`${evidence.namespace} is registered in subscription ${p.subscriptionId}.`, evidence);
    const remedy = `Register it (needs ${p.namespace}/register/action on the subscription, e.g. Contributor): az provider register --namespace ${p.namespace} --subscription ${p.subscriptionId}`;
    if (state.toLowerCase() === 'registering') {
      return fail(
        `${evidence.namespace} is still registering in subscription ${p.subscriptionId}; the write would fail with MissingSubscriptionRegistration until it finishes.`,
        `Wait until "az provider show --namespace ${p.namespace} --subscription ${p.subscriptionId}" says Registered, then run the checks again.`,
        evidence,
      );
    }
    return fail(
      provider
        ? `${evidence.namespace} is ${state} in subscription ${p.subscriptionId}, so Azure would refuse the write with MissingSubscriptionRegistration after approval.`
        : `Azure does not know the resource provider ${p.namespace} in subscription ${p.subscriptionId}, so the write would fail.`,
      remedy,
      evidence,
    );
  },
});
