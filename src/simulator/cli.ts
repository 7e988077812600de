// `npm run simulator`: the local Azure on its own, until Ctrl+C. A standalone tool, so it
// reads its settings from the environment directly.
import path from 'node:path';
import { SIM_SUBSCRIPTION_ID, startSimulator } from './index';

function port(): number {
  const raw = process.env['SIMULATOR_PORT'] ?? '8443';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`SIMULATOR_PORT must be an integer 0-65535 (0 = any free port), got '${raw}'.`);
    process.exit(2);
  }
  return n;
}

/** SIMULATOR_LRO_RETRY_AFTER / SIMULATOR_LRO_POLLS: the long-running-operation settings (defaults 1 s and 2 polls). */
function lroSetting(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`${name} must be a non-negative integer, got '${raw}'.`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const tlsDir = path.join('.data', 'simulator-tls');
  const retryAfterSeconds = lroSetting('SIMULATOR_LRO_RETRY_AFTER');
  const pollsToComplete = lroSetting('SIMULATOR_LRO_POLLS');
  const sim = await startSimulator({
    port: port(),
    host: process.env['SIMULATOR_HOST'] ?? '127.0.0.1',
    tlsDir,
    lro: { ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}), ...(pollsToComplete !== undefined ? { pollsToComplete } : {}) },
  });
  const caPath = sim.caPath ?? path.join(tlsDir, 'ca.pem');
  const url = `${sim.endpoint}/subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups?api-version=2022-12-01`;
  console.log(`Azure simulator listening on ${sim.endpoint}`);
  console.log(`CA certificate (trust this, per client): ${caPath}`);
  console.log('Any non-empty bearer token is accepted; every call acts as the bot principal.');
  console.log(`Long-running operations: Retry-After ${sim.lro.retryAfterSeconds} s, finished after ${sim.lro.pollsToComplete} polls.`);
  console.log('');
  console.log('Try:');
  console.log(`  curl --cacert ${caPath} -H "Authorization: Bearer sim" "${url}"`);
  console.log(`  REQUESTS_CA_BUNDLE=${caPath} az rest --method get --skip-authorization-header --headers "Authorization=Bearer sim" --url "${url}"`);
  console.log('Point the bot at it with its ARM endpoint set to the URL above and tlsOptions.ca read from the CA file (see docs/simulator.md).');

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the simulator.`);
    sim.close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error('The simulator could not start:', e instanceof Error ? e.message : e);
  process.exit(1);
});
