// The providers the simulator serves. A new provider is one module plus one line here.
import type { SimProvider } from '../provider';
import { authorizationProvider } from './authorization';
import { chaosProvider } from './chaos';
import { fluidRelayProvider } from './fluid-relay';
import { graphProvider } from './graph';
import { keyVaultProvider } from './keyvault';
import { keyVaultKeyWritesProvider } from './keyvault-keys';
import { managedIdentityProvider } from './managed-identity';
import { resourcesProvider } from './resources';
import { resourceGraphProvider } from './resource-graph';
import { storageProvider } from './storage';

export const providers: readonly SimProvider[] = [
  resourcesProvider,
  keyVaultProvider,
  keyVaultKeyWritesProvider,
  managedIdentityProvider,
  authorizationProvider,
  fluidRelayProvider,
  storageProvider,
  chaosProvider,
  graphProvider,
  resourceGraphProvider,
];
