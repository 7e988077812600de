// The rooms of docs/architecture.md ("Rooms and the rules between them"), checked over the
// resolved import graph of src/ by `npm run depcruise` (part of `npm run lint`).
// eslint's no-restricted-imports (eslint.config.mjs) says the SDK rules again at the import line.
/* global module */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'azure-sdk-only-in-azure',
      comment: 'Only src/azure (and the local simulator) imports the Azure SDK; everything else goes through the ArmGateway port.',
      severity: 'error',
      from: { pathNot: '^src/(azure|simulator)/' },
      to: { path: '^@azure/|node_modules/@azure/' },
    },
    {
      name: 'teams-sdk-only-in-teams',
      comment: 'Only src/chat/teams imports the Teams SDK (the Microsoft 365 Agents SDK).',
      severity: 'error',
      from: { pathNot: '^src/chat/teams/' },
      to: { path: '(^|node_modules/)(@microsoft/agents-|botbuilder|botframework-)' },
    },
    {
      name: 'slack-only-in-slack',
      comment: 'Only src/chat/slack imports the Slack SDKs.',
      severity: 'error',
      from: { pathNot: '^src/chat/slack/' },
      to: { path: '(^|node_modules/)@slack/' },
    },
    {
      name: 'targets-checks-stay-pure',
      comment: 'targets/ and checks/ are pure over our ports: no store, chat or workflow, no database driver.',
      severity: 'error',
      from: { path: '^src/(targets|checks)/' },
      to: { path: ['^src/(store|chat|workflow)/', '(^|node_modules/)(pg|@electric-sql)/'] },
    },
    {
      name: 'domain-imports-only-domain',
      comment: 'domain/ is the innermost room: of our code it imports only domain/.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'workflow-not-chat',
      comment: 'The workflow serves both channels and knows neither: workflow/ never imports chat/.',
      severity: 'error',
      from: { path: '^src/workflow/' },
      to: { path: '^src/chat/' },
    },
    {
      name: 'teams-not-slack',
      comment: 'The two channels are independent doors: chat/teams never imports chat/slack.',
      severity: 'error',
      from: { path: '^src/chat/teams/' },
      to: { path: '^src/chat/slack/' },
    },
    {
      name: 'slack-not-teams',
      comment: 'The two channels are independent doors: chat/slack never imports chat/teams.',
      severity: 'error',
      from: { path: '^src/chat/slack/' },
      to: { path: '^src/chat/teams/' },
    },
    {
      name: 'azure-port-without-sdk',
      comment: 'The ArmGateway port and the retry decision are plain TypeScript: only the adapter (sdk-gateway.ts) holds the SDK.',
      severity: 'error',
      from: { path: '^src/azure/(port|retry)\\.ts$' },
      to: { path: '(^|node_modules/)@azure/' },
    },
    {
      name: 'adapter-only-in-composition',
      comment: 'Only the composition root (app.ts) builds the SDK gateway; everything else holds the ArmGateway port.',
      severity: 'error',
      from: { pathNot: '^src/(app|main)\\.ts$|^src/azure/' },
      to: { path: '^src/azure/sdk-gateway\\.ts$' },
    },
    {
      name: 'store-below-workflow',
      comment: 'store/ is persistence only: of our code it imports domain/ and nothing above it.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/', pathNot: '^src/(store|domain)/' },
    },
    {
      name: 'config-is-a-leaf',
      comment: 'config.ts is the one zod schema over the environment and imports none of our modules.',
      severity: 'error',
      from: { path: '^src/config\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'simulator-and-dev-stand-alone',
      comment: 'The local Azure (simulator/) and the local Slack harness (dev/) are node only: they import none of our other modules.',
      severity: 'error',
      from: { path: '^src/(simulator|dev)/' },
      to: { path: '^src/', pathNot: '^src/$1/' },
    },
    {
      name: 'dev-tooling-not-in-production',
      comment: 'The simulator and the Slack stand-in are dev tooling: the bot loads the simulator only through the dynamic import of its embedded (development) path (app.ts), and types only otherwise.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(simulator|dev)/' },
      to: { path: '^src/(simulator|dev)/', dynamic: false, dependencyTypesNot: ['type-only', 'type-import'] },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports are dependencies too: a room that needs another's types depends on it.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
