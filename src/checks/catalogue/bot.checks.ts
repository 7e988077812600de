// The bot's own rights, read from ARM's permissions API, so a missing right fails before anyone
// approves rather than after.
import { grants } from '../rbac';
import { defineCheck, fail, info, pass } from '../types';

const ASSIGN = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action';

export const botCanWrite = defineCheck({
  id: 'bot.can-write',
  title: 'The bot may make this change',
  needs: ['botRightsAtTarget', 'botRightsAtIdentity'],
  evaluate: ({ botRightsAtTarget, botRightsAtIdentity }, { subject }) => {
    if (subject.mode === 'review' || !subject.writeAction) return info('Read-only review: no write needed.');
    const rg = subject.resourceId.split('/').slice(0, 5).join('/');
    const canWrite = grants(botRightsAtTarget, subject.writeAction, 'control');
    const canAssign = grants(botRightsAtIdentity, ASSIGN, 'control');
    const evidence = { writeAction: subject.writeAction, canWrite, canAssign, scope: rg };
    const missing = [!canWrite ? `${subject.writeAction} at ${rg}` : null, !canAssign ? `${ASSIGN} on ${subject.identityId.split('/').pop()}` : null].filter(Boolean);
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
