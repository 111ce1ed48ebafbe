// One micro-batch's Redis commands, sent as one pipeline per node: a single Redis gets one pipeline; a
// Redis Cluster gets one per master that owns a slot of the batch's keys, all in parallel. Every command
// names one key, so no command can span slots.
//
// APPENDs queued one after another with append() go to a single Redis as one script call that appends
// them all: one ioredis command (and one promise) per micro-batch instead of two per transaction, which
// were a third of the scorer's heap allocation (a heap profile at 11,000 tx/s). A Redis Cluster gets them
// one command each: ioredis refuses a pipelined command whose keys span slots.

import type { Cluster, Redis } from 'ioredis';
import { withDeadline } from '../deadline.js';

export type RedisClient = Redis | Cluster;
type Pipeline = ReturnType<Redis['pipeline']>;
export type Reply = [error: Error | null, result: unknown];

/** A queued command: `add` puts it on a pipeline, or, when undefined, it is APPEND key value. */
interface Command {
  key: string;
  add: ((p: Pipeline) => void) | undefined;
  value: string;
}

/** Appends KEYS[i] ARGV[i] for every i; replies with the new lengths, in order (what each APPEND returns). */
const APPEND_ALL = `local n = {}
for i = 1, #KEYS do n[i] = redis.call('APPEND', KEYS[i], ARGV[i]) end
return n`;

export class RedisBatch {
  private readonly commands: Command[] = [];

  get length(): number {
    return this.commands.length;
  }

  /** Queues a command on `key`; returns its index in the replies. */
  push(key: string, add: (p: Pipeline) => void): number {
    this.commands.push({ key, add, value: '' });
    return this.commands.length - 1;
  }

  /**
   * Queues APPEND key value; returns its index in the replies (the log's new length). It runs after
   * every command queued before it and before every one queued after it, as push() does.
   */
  append(key: string, value: string): number {
    this.commands.push({ key, add: undefined, value });
    return this.commands.length - 1;
  }

  /**
   * Sends everything queued and resolves to one reply per command, in queue order; with `timeoutMs`,
   * each round trip rejects (timed out) when it has not been answered by then.
   *
   * On a Cluster, a failover answers some commands without running them, and they are sent again, up to
   * FAILOVER_RETRIES times:
   * - MOVED (the slot moved, e.g. a replica was promoted): once the slot map is fresh, to the new owner
   *   (a map refreshed from a node that has not heard of the promotion yet is refreshed again, later);
   * - "Connection is closed." (ioredis refuses a command for a node whose connection is still being
   *   opened, such as a just-promoted replica, and fails the commands in flight on a node it drops from
   *   its pool): once that node's connection is ready, at most `timeoutMs` (or 1 s) later.
   * Resending is safe for the store's commands: reads and overwrites are idempotent, and a log entry
   * appended twice counts once.
   */
  async exec(client: RedisClient, timeoutMs = 0): Promise<Reply[]> {
    if (this.commands.length === 0) return [];
    const timed = <T>(p: Promise<T>): Promise<T> =>
      timeoutMs > 0 ? withTimeout(p, timeoutMs, `a pipeline of ${this.commands.length} commands`) : p;
    if (!isCluster(client)) return timed(execOne(client.pipeline(), this.commands, true));
    const all = this.commands.map((_, i) => i);
    const replies = await timed(this.execOnNodes(client, all));
    for (let attempt = 0; attempt < FAILOVER_RETRIES; attempt++) {
      const again = all.filter((i) => isMoved(replies[i][0]) || isClosed(replies[i][0]));
      if (again.length === 0) break;
      if (again.some((i) => isMoved(replies[i][0]))) {
        // A node that has not heard of the promotion yet can answer the refresh with the old map: wait a
        // little longer before each further one.
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, MOVED_BACKOFF_MS * 2 ** attempt));
        await new Promise<void>((resolve) => client.refreshSlotsCache(() => resolve()));
      }
      await this.nodesReady(client, again, timeoutMs > 0 ? timeoutMs : 1000);
      const r = await timed(this.execOnNodes(client, again));
      for (let j = 0; j < again.length; j++) replies[again[j]] = r[j];
    }
    return replies;
  }

  /** Waits (at most `ms`) until the connections to the nodes that serve the commands `idx` are ready. */
  private async nodesReady(client: Cluster, idx: readonly number[], ms: number): Promise<void> {
    const wanted = new Set<string>();
    for (const i of idx) {
      const node = client.slots[keySlot(this.commands[i].key)]?.[0];
      if (node !== undefined) wanted.add(node);
    }
    const opening = client
      .nodes('all')
      .filter((r) => wanted.has(`${r.options.host}:${r.options.port}`) && OPENING.has(r.status));
    if (opening.length === 0) return;
    // Past `ms` the commands are sent anyway: they then fail as they would have.
    await withDeadline(
      Promise.all(opening.map((r) => new Promise<void>((resolve) => settled(r, () => resolve())))),
      ms,
      () => new Error('node not ready'),
    ).catch(() => {});
  }

  /** One pipeline per node that serves the commands `idx`, in parallel; replies in the order of `idx`. */
  private async execOnNodes(client: Cluster, idx: readonly number[]): Promise<Reply[]> {
    // Group by the node that serves each key's slot; a slot not mapped yet goes with the first group.
    const groups = new Map<string, number[]>();
    const slots = client.slots;
    for (let j = 0; j < idx.length; j++) {
      const node = slots[keySlot(this.commands[idx[j]].key)]?.[0] ?? '';
      let g = groups.get(node);
      if (g === undefined) {
        g = [];
        groups.set(node, g);
      }
      g.push(j);
    }
    const replies = new Array<Reply>(idx.length);
    await Promise.all(
      [...groups.values()].map(async (js) => {
        const r = await execOne(
          client.pipeline() as unknown as Pipeline,
          js.map((j) => this.commands[idx[j]]),
          false,
        );
        for (let k = 0; k < js.length; k++) replies[js[k]] = r[k];
      }),
    );
    return replies;
  }
}

/**
 * Rejects with a "timed out" error (redis-errors.ts counts it as a timeout) when `p` has not settled
 * within `ms`. One timer per pipeline: ioredis's own commandTimeout arms and clears one per command.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return withDeadline(p, ms, () => new Error(`Command timed out: Redis did not answer ${what} within ${ms} ms`));
}

/** How often commands a failover answered without running them are sent again. */
const FAILOVER_RETRIES = 5;
/** Wait before the 2nd, 3rd, … slot-map refresh: 20, 40, 80, 160 ms (300 ms in all). */
const MOVED_BACKOFF_MS = 10;

/** Connection states of an ioredis node that end in 'ready' or in a failure, soon. */
const OPENING = new Set(['connecting', 'connect', 'reconnecting']);

function isMoved(err: Error | null): boolean {
  return err?.message.startsWith('MOVED ') === true;
}

/** ioredis's CONNECTION_CLOSED_ERROR_MSG: the command was refused or dropped by the client, not by Redis. */
function isClosed(err: Error | null): boolean {
  return err?.message === 'Connection is closed.';
}

/** Calls `done` once `node` is ready or its connection attempt failed. */
function settled(node: Redis, done: () => void): void {
  const finish = () => {
    node.off('ready', finish);
    node.off('end', finish);
    node.off('close', finish);
    done();
  };
  node.once('ready', finish);
  node.once('end', finish);
  node.once('close', finish);
}

/**
 * Sends `commands` as one pipeline; replies in their order. With `coalesce`, each run of consecutive
 * appends goes as one APPEND_ALL script call, whose reply is spread back over the run.
 */
async function execOne(pipeline: Pipeline, commands: readonly Command[], coalesce: boolean): Promise<Reply[]> {
  // ends[k]: one past the last command answered by the pipeline's reply k.
  const ends: number[] = [];
  let scripted = false;
  let i = 0;
  while (i < commands.length) {
    const c = commands[i];
    if (c.add !== undefined) {
      c.add(pipeline);
      ends.push(++i);
      continue;
    }
    if (!coalesce) {
      pipeline.append(c.key, c.value);
      ends.push(++i);
      continue;
    }
    let j = i + 1;
    while (j < commands.length && commands[j].add === undefined) j++;
    const n = j - i;
    const args = new Array<string | number>(2 + 2 * n);
    args[0] = APPEND_ALL;
    args[1] = n;
    for (let k = 0; k < n; k++) {
      args[2 + k] = commands[i + k].key;
      args[2 + n + k] = commands[i + k].value;
    }
    // One array argument: ioredis flattens it, where a spread would copy 2n + 2 arguments first.
    (pipeline as unknown as { eval(args: (string | number)[]): void }).eval(args);
    scripted = true;
    i = j;
    ends.push(j);
  }
  const replies = (await pipeline.exec()) as Reply[] | null;
  if (replies === null) throw new Error('pipeline aborted');
  if (!scripted) return replies;
  const out = new Array<Reply>(commands.length);
  let from = 0;
  for (let k = 0; k < ends.length; k++) {
    const to = ends[k];
    const reply = replies[k];
    if (commands[from].add !== undefined) out[from] = reply;
    else {
      const lengths = reply[1] as number[] | null;
      for (let m = from; m < to; m++) out[m] = reply[0] !== null ? [reply[0], null] : [null, lengths![m - from]];
    }
    from = to;
  }
  return out;
}

export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}

/** The Redis Cluster slot of a key: CRC16 (XMODEM) of its hash tag, or of the whole key, mod 16384. */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key);
  let s = 0;
  let e = bytes.length;
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) {
      s = open + 1;
      e = close;
    }
  }
  let crc = 0;
  for (let i = s; i < e; i++) {
    crc ^= bytes[i] << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc & 16383;
}
