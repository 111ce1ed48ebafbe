// Free local ports for the stacks a test starts itself.
import { createServer } from 'node:net';

/**
 * Linux's default ephemeral range starts here. A test port must lie below it: a port found free in
 * that range can be taken by another test's outgoing connection before the JVM binds it ("Address
 * already in use" failed a CI run that way).
 */
const EPHEMERAL_FIRST = 32768;

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first base in `bases` whose ports base+offset are all free (each below the ephemeral range). */
export async function freeBase(bases: readonly number[], offsets: readonly number[]): Promise<number> {
  for (const base of bases) {
    const ports = offsets.map((o) => base + o);
    const high = ports.find((p) => p >= EPHEMERAL_FIRST);
    if (high !== undefined) throw new Error(`test port ${high} is in the ephemeral range (from ${EPHEMERAL_FIRST})`);
    const free = await Promise.all(ports.map(portFree));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no free ports among bases ${bases.join(', ')}`);
}
