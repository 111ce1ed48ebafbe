/** A single updating progress line on stderr (only when it is a terminal, unless forced). */
export class Progress {
  private last = 0;
  private readonly started = performance.now();
  readonly enabled: boolean;

  constructor(
    private readonly label: string,
    mode: 'auto' | 'on' | 'off' = 'auto',
  ) {
    this.enabled = mode === 'on' || (mode === 'auto' && process.stderr.isTTY === true);
  }

  update(done: number, total: number | undefined, extra = ''): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.last < 100 && done !== total) return;
    this.last = now;
    const secs = (now - this.started) / 1000;
    const rate = done / Math.max(secs, 1e-9);
    let line = `${this.label} ${done.toLocaleString('en-US')}`;
    if (total !== undefined && total > 0) {
      const pct = Math.min(1, done / total);
      const width = 24;
      const filled = Math.round(pct * width);
      const eta = rate > 0 ? (total - done) / rate : 0;
      line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${(pct * 100).toFixed(0)}% ETA ${eta.toFixed(0)}s`;
    }
    line += ` ${Math.round(rate).toLocaleString('en-US')}/s${extra ? ` ${extra}` : ''}`;
    process.stderr.write(`\r${line}\u001b[K`);
  }

  /** For work measured by position (e.g. bytes of a file) while counting records. */
  updateFraction(fraction: number, records: number, unit = 'records'): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.last < 100 && fraction < 1) return;
    this.last = now;
    const secs = (now - this.started) / 1000;
    const pct = Math.min(1, Math.max(0, fraction));
    const width = 24;
    const filled = Math.round(pct * width);
    const eta = pct > 0 ? (secs * (1 - pct)) / pct : Number.NaN;
    const rate = Math.round(records / Math.max(secs, 1e-9)).toLocaleString('en-US');
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(pct * 100).toFixed(1)}% ${records.toLocaleString('en-US')} ${unit} ${rate}/s ETA ${Number.isFinite(eta) ? `${eta.toFixed(0)}s` : '?'}`;
    process.stderr.write(`\r${line}\u001b[K`);
  }

  done(): void {
    if (this.enabled) process.stderr.write('\n');
  }
}
