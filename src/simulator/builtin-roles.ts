// Built-in role definitions the simulator seeds. The three Key Vault / Storage roles are
// transcribed from shared/reference/azure-rest/Microsoft.Authorization/builtin-roles/
// _fragment.builtin-role-definitions.json (MicrosoftDocs built-in-roles pages); Reader,
// Contributor, Managed Identity Operator and User Access Administrator follow the same docs.
import { BUILTIN_ROLE_IDS } from './seed-ids';
import type { RolePermission } from './rbac';

export interface BuiltinRole {
  name: string;
  roleName: string;
  description: string;
  permissions: RolePermission[];
}

const perm = (p: Partial<RolePermission>): RolePermission => ({ actions: [], notActions: [], dataActions: [], notDataActions: [], ...p });

export const BUILTIN_ROLES: readonly BuiltinRole[] = [
  {
    name: BUILTIN_ROLE_IDS.keyVaultCryptoServiceEncryptionUser,
    roleName: 'Key Vault Crypto Service Encryption User',
    description: "Read metadata of keys and perform wrap/unwrap operations. Only works for key vaults that use the 'Azure role-based access control' permission model.",
    permissions: [
      perm({
        actions: ['Microsoft.EventGrid/eventSubscriptions/write', 'Microsoft.EventGrid/eventSubscriptions/read', 'Microsoft.EventGrid/eventSubscriptions/delete'],
        dataActions: ['Microsoft.KeyVault/vaults/keys/read', 'Microsoft.KeyVault/vaults/keys/wrap/action', 'Microsoft.KeyVault/vaults/keys/unwrap/action'],
      }),
    ],
  },
  {
    name: BUILTIN_ROLE_IDS.keyVaultCryptoUser,
    roleName: 'Key Vault Crypto User',
    description: "Perform cryptographic operations using keys. Only works for key vaults that use the 'Azure role-based access control' permission model.",
    permissions: [
      perm({
        dataActions: [
          'Microsoft.KeyVault/vaults/keys/read',
          'Microsoft.KeyVault/vaults/keys/update/action',
          'Microsoft.KeyVault/vaults/keys/backup/action',
          'Microsoft.KeyVault/vaults/keys/encrypt/action',
          'Microsoft.KeyVault/vaults/keys/decrypt/action',
          'Microsoft.KeyVault/vaults/keys/wrap/action',
          'Microsoft.KeyVault/vaults/keys/unwrap/action',
          'Microsoft.KeyVault/vaults/keys/sign/action',
          'Microsoft.KeyVault/vaults/keys/verify/action',
        ],
      }),
    ],
  },
  {
    name: BUILTIN_ROLE_IDS.storageBlobDataContributor,
    roleName: 'Storage Blob Data Contributor',
    description: 'Allows for read, write and delete access to Azure Storage blob containers and data',
    permissions: [
      perm({
        actions: [
          'Microsoft.Storage/storageAccounts/blobServices/containers/delete',
          'Microsoft.Storage/storageAccounts/blobServices/containers/read',
          'Microsoft.Storage/storageAccounts/blobServices/containers/write',
          'Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action',
        ],
        dataActions: [
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete',
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write',
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action',
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action',
        ],
      }),
    ],
  },
  {
    name: BUILTIN_ROLE_IDS.reader,
    roleName: 'Reader',
    description: 'View all resources, but does not allow you to make any changes.',
    permissions: [perm({ actions: ['*/read'] })],
  },
  {
    name: BUILTIN_ROLE_IDS.contributor,
    roleName: 'Contributor',
    description: 'Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.',
    permissions: [
      perm({
        actions: ['*'],
        notActions: [
          'Microsoft.Authorization/*/Delete',
          'Microsoft.Authorization/*/Write',
          'Microsoft.Authorization/elevateAccess/Action',
          'Microsoft.Blueprint/blueprintAssignments/write',
          'Microsoft.Blueprint/blueprintAssignments/delete',
          'Microsoft.Compute/galleries/share/action',
          'Microsoft.Purview/consents/write',
          'Microsoft.Purview/consents/delete',
          'Microsoft.Resources/deploymentStacks/manageDenySetting/action',
          'Microsoft.Subscription/cancel/action',
          'Microsoft.Subscription/enable/action',
        ],
      }),
    ],
  },
  {
    name: BUILTIN_ROLE_IDS.managedIdentityOperator,
    roleName: 'Managed Identity Operator',
    description: 'Read and Assign User Assigned Identity',
    permissions: [
      perm({
        actions: [
          'Microsoft.ManagedIdentity/userAssignedIdentities/*/read',
          'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
          'Microsoft.Authorization/*/read',
          'Microsoft.Insights/alertRules/*',
          'Microsoft.Resources/subscriptions/resourceGroups/read',
          'Microsoft.Resources/deployments/*',
          'Microsoft.Support/*',
        ],
      }),
    ],
  },
  {
    name: BUILTIN_ROLE_IDS.userAccessAdministrator,
    roleName: 'User Access Administrator',
    description: 'Lets you manage user access to Azure resources.',
    permissions: [perm({ actions: ['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*'] })],
  },
];
