import { describe, expect, it } from 'vitest';
import { CpuMeter, cpuMs, describeCpu } from '../../bench/cpu.js';

/** Keeps this thread busy until it has used `ms` of CPU (however busy the machine is), 10 s at most. */
function spin(ms: number): void {
  const from = process.cpuUsage();
  const until = performance.now() + 10_000;
  let x = 0;
  for (;;) {
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + i);
    const used = process.cpuUsage(from);
    if ((used.user + used.system) / 1000 >= ms || performance.now() > until) break;
  }
  if (x < 0) throw new Error('unreachable');
}

describe('bench CPU meter', () => {
  it("reads a process's CPU time from /proc, which grows while it works", () => {
    const before = cpuMs(process.pid);
    spin(300);
    const after = cpuMs(process.pid);
    // 10 ms ticks: 300 ms of CPU reads as at least 290.
    expect(after - before).toBeGreaterThanOrEqual(280);
    expect(cpuMs(2 ** 22 + 7)).toBeNaN();
  });

  it('divides the CPU of a window by the records done in it, and counts the busy cores', () => {
    const meter = new CpuMeter({ self: process.pid, gone: undefined });
    meter.start();
    spin(300);
    meter.stop(1000);
    const c = meter.perRecord();
    // 300 ms of CPU for 1,000 records: 300 µs each, plus the ticks of this process's other threads.
    expect(c.us_per_record.self).toBeGreaterThanOrEqual(280);
    expect(c.us_per_record.self).toBeLessThan(1000);
    expect(c.us_per_record.gone).toBeNull();
    // One process unreadable: the machine's share cannot be told.
    expect(c.busy_cores).toBeNull();
    expect(describeCpu(c)).toMatch(/^self \d+(\.\d)?, gone \? µs of CPU per record; \? of \d+ cores busy$/);
  });

  it('reports the busy cores when every process could be read', () => {
    const meter = new CpuMeter({ self: process.pid });
    meter.start();
    spin(300);
    meter.stop(10);
    const c = meter.perRecord();
    // CPU ÷ wall: under 1 only when other processes took the core in between.
    expect(c.busy_cores).toBeGreaterThan(0.2);
    expect(c.busy_cores).toBeLessThanOrEqual(c.cores + 0.1);
  });
});
