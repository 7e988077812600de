import { diffPayload } from '../../src/domain/diff';

describe('update diff', () => {
  it('lists each changed leaf with its current value, and nothing that stays the same', () => {
    const current = { identity: { type: 'UserAssigned', userAssignedIdentities: { '/X/ID1': { principalId: 'p' } } }, properties: { encryption: { keySource: 'Microsoft.Storage' }, other: 1 } };
    const payload = { identity: { type: 'UserAssigned', userAssignedIdentities: { '/x/id1': {} } }, properties: { encryption: { keySource: 'Microsoft.Keyvault', keyvaultproperties: { keyname: 'k', keyversion: '' } } } };
    expect(diffPayload(current, payload)).toEqual([
      { path: 'properties.encryption.keySource', from: 'Microsoft.Storage', to: 'Microsoft.Keyvault' },
      { path: 'properties.encryption.keyvaultproperties.keyname', from: '(not set)', to: 'k' },
      { path: 'properties.encryption.keyvaultproperties.keyversion', from: '(not set)', to: '""' },
    ]);
  });
});
