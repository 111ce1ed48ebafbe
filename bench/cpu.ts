// CPU time of the processes behind a drained throughput (Linux /proc): what one record costs the
// scorer (or the pass-through), the broker and Redis. A rate read against the machine's cores says
// whether the work or the machine is the ceiling: on 2 cores, 40 µs of CPU per record in all caps any
// pipeline at 50,000 records/s.

import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fromRoot } from '../src/package-root.js';

/** Linux's USER_HZ, in which /proc/<pid>/stat counts CPU time: 100 on every mainstream kernel. */
const TICK_MS = 10;

/** utime + stime of `pid` (all its threads) in ms; NaN when it cannot be read (gone, not Linux). */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: fields 3 onwards follow its closing parenthesis.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS;
  } catch {
    return Number.NaN;
  }
}

/** The pid of a server the stack script started (`.stack/<name>.pid`), or undefined (e.g. an external broker). */
export function stackPid(name: 'kafka' | 'redis'): number | undefined {
  try {
    const pid = Number(readFileSync(fromRoot(`.stack/${name}.pid`), 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Per record, µs of CPU of each process, and the machine's busy cores (all of them together) over the window. */
export interface CpuPerRecord {
  us_per_record: Record<string, number | null>;
  /** Sum of the processes' CPU ÷ wall time: 2 on a 2-core machine means nothing was left. */
  busy_cores: number | null;
  cores: number;
}

/** Reads the processes' CPU at the start and the end of a window, and divides it by the records done in it. */
export class CpuMeter {
  private from: Record<string, number> = {};
  private to: Record<string, number> = {};
  private startedAt = 0;
  private stoppedAt = 0;
  private records = 0;

  constructor(private readonly pids: Record<string, number | undefined>) {}

  start(): void {
    this.startedAt = performance.now();
    for (const [name, pid] of Object.entries(this.pids)) this.from[name] = cpuMs(pid);
  }

  /** Ends the window, in which `records` were done. */
  stop(records: number): void {
    this.records = records;
    this.stoppedAt = performance.now();
    for (const [name, pid] of Object.entries(this.pids)) this.to[name] = cpuMs(pid);
  }

  perRecord(): CpuPerRecord {
    const records = this.records;
    const us: Record<string, number | null> = {};
    let busy = 0;
    let known = true;
    for (const name of Object.keys(this.pids)) {
      const ms = this.to[name] - this.from[name];
      if (Number.isFinite(ms) && records > 0) {
        us[name] = Math.round(((ms * 1000) / records) * 10) / 10;
        busy += ms;
      } else {
        us[name] = null;
        known = false;
      }
    }
    const wall = this.stoppedAt - this.startedAt;
    return {
      us_per_record: us,
      busy_cores: known && wall > 0 ? Math.round((busy / wall) * 100) / 100 : null,
      cores: cpus().length,
    };
  }
}

/** "scorer 45.1, broker 12.3, redis 4 µs per record; 1.71 of 2 cores busy". */
export function describeCpu(c: CpuPerRecord): string {
  const parts = Object.entries(c.us_per_record).map(([k, v]) => `${k} ${v ?? '?'}`);
  return `${parts.join(', ')} µs of CPU per record; ${c.busy_cores ?? '?'} of ${c.cores} cores busy`;
}
