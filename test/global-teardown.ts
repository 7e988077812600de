// After the last test file: the template test/global-setup.ts made goes with its folder.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';

export default function globalTeardown(): void {
  const file = process.env.CMK_TEST_PGLITE_TEMPLATE;
  if (file) rmSync(dirname(file), { recursive: true, force: true });
}
