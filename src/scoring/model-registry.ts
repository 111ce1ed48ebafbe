// Holds the champion model and hot-swaps it when its directory changes on disk.
//
// Change detection: every pollMs, a stat of manifest.json and the model file (inode, size, mtime,
// ctime); only when one changed, a sha256 of both (the hash runs on the event loop: 37 ms for a 50 MB
// model here, which every poll would have added to some records' latency). A new hash is loaded once it
// has held for one poll (so a deploy caught between its two file writes is not loaded).
// Swap protocol: load the new files into a NEW scorer (own session), warm and validate it, and only
// then replace the current entry in one assignment. A batch scores with the entry it picked up at the
// start (one run() per batch), so it sees all-old or all-new scores, never a mix. The old scorer is
// closed once its in-flight runs have finished. A broken new model is rejected (FraudError
// INVALID_MODEL reported through onError) and the old one keeps serving.

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCodes, FraudError } from '../errors.js';
import { loadManifest, MANIFEST_FILE, type Manifest } from './manifest.js';
import { OnnxScorer } from './onnx-scorer.js';
import type { Scorer } from './scorer.js';

/** A scorer with the manifest it was loaded with; take one per batch via current(). */
export interface Model {
  readonly scorer: Scorer;
  readonly manifest: Manifest;
}

export type ScorerLoader = (modelDir: string, manifest: Manifest) => Promise<Scorer>;

export interface ModelRegistryOptions {
  /** How often watch() checks the directory. Default 2000 ms. */
  pollMs?: number;
  /** Largest batch (passed to the default ONNX loader's warm-up). Default 1024. */
  maxBatch?: number;
  /** Builds a scorer for a validated manifest. Default: OnnxScorer for 'onnx', TfjsScorer for 'tfjs'. */
  loader?: ScorerLoader;
  /** Called after each successful swap (e.g. to bump a reload counter metric). */
  onReload?: (next: Manifest, previous: Manifest) => void;
  /** Called when a new model is rejected; the previous model stays. Default: one JSON line on stderr. */
  onError?: (err: FraudError) => void;
}

/** Counts in-flight runs so a retired scorer is closed only after they finish. */
class LeasedScorer implements Scorer {
  private inFlight = 0;
  private retired = false;
  private closing: Promise<void> | null = null;
  private resolveClosed!: () => void;
  /** Settles once the inner scorer is closed. */
  readonly closed = new Promise<void>((resolve) => {
    this.resolveClosed = resolve;
  });

  constructor(readonly inner: Scorer) {}

  get name(): string {
    return this.inner.name;
  }
  get version(): string {
    return this.inner.version;
  }
  get format(): 'onnx' | 'tfjs' {
    return this.inner.format;
  }

  async score(input: Float32Array, n: number, out: Float32Array): Promise<void> {
    this.inFlight++;
    try {
      await this.inner.score(input, n, out);
    } finally {
      this.inFlight--;
      if (this.retired && this.inFlight === 0) void this.closeNow();
    }
  }

  /** No new work is expected: close now if idle, else after the last in-flight run. */
  retire(): Promise<void> {
    this.retired = true;
    if (this.inFlight === 0) void this.closeNow();
    return this.closed;
  }

  /** Same as retire(): the session is released after in-flight runs finish. */
  close(): Promise<void> {
    return this.retire();
  }

  private closeNow(): Promise<void> {
    this.closing ??= this.inner
      .close()
      .catch(() => {})
      .then(() => this.resolveClosed());
    return this.closing;
  }
}

interface Entry extends Model {
  readonly scorer: LeasedScorer;
  readonly signature: string;
}

const defaultLoader =
  (maxBatch: number): ScorerLoader =>
  async (dir, manifest) => {
    if (manifest.format === 'onnx') return OnnxScorer.load(dir, { manifest, maxBatch });
    // Imported on demand: an ONNX-only process never loads TF.js.
    const { TfjsScorer } = await import('./tfjs-scorer.js');
    return TfjsScorer.load(dir, { manifest, maxBatch });
  };

function defaultOnError(err: FraudError): void {
  process.stderr.write(`${JSON.stringify({ level: 'error', code: err.code, msg: err.message })}\n`);
}

/** sha256 over manifest.json and the model file it names; null when either cannot be read. */
async function signatureOf(modelDir: string): Promise<string | null> {
  return (await readSignature(modelDir)).sig;
}

/** signatureOf(), and the model file the manifest named (undefined when it could not be read). */
async function readSignature(modelDir: string): Promise<{ sig: string | null; file: string | undefined }> {
  let file: string | undefined;
  try {
    const manifestBytes = await readFile(path.join(modelDir, MANIFEST_FILE));
    const hash = createHash('sha256').update(manifestBytes);
    const named = (JSON.parse(manifestBytes.toString('utf8')) as { file?: unknown }).file;
    if (typeof named === 'string') {
      file = named;
      hash.update(await readFile(path.join(modelDir, named)));
    }
    return { sig: hash.digest('hex'), file };
  } catch {
    return { sig: null, file };
  }
}

/**
 * Inode, size, mtime and ctime (ns) of manifest.json and `file`, and the newest ctime (ms); null when
 * one cannot be stat'ed. A rewrite changes ctime even when a tool restores mtime and the size stays
 * (rsync -t, cp -p).
 */
async function statKey(modelDir: string, file: string | undefined): Promise<{ key: string; changedMs: number } | null> {
  try {
    let key = '';
    let changedMs = 0;
    for (const f of file === undefined ? [MANIFEST_FILE] : [MANIFEST_FILE, file]) {
      const st = await stat(path.join(modelDir, f), { bigint: true });
      key += `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs};`;
      changedMs = Math.max(changedMs, Number(st.ctimeNs / 1_000_000n));
    }
    return { key, changedMs };
  } catch {
    return null;
  }
}

/**
 * A stat key is trusted only for files unchanged this long: file times advance in clock ticks (a few
 * ms), so a second same-size write within the tick of the one just read would look unchanged
 * (git's "racily clean" entries). Such files are read again at the next poll.
 */
const SETTLED_MS = 1000;

export class ModelRegistry {
  private entry: Entry;
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<boolean> | null = null;
  /** Signature of a rejected model, so it is reported once, not on every poll. */
  private rejected: string | null = null;
  /** Signature seen by the previous check: a change is loaded only once it has held for one poll. */
  private pending: string | null = null;
  private readonly loader: ScorerLoader;
  private _reloads = 0;
  private _failures = 0;
  /** The files' stat key when they were last read and hashed, and that hash (see signature()). */
  private seen: { key: string; sig: string | null } | null = null;
  /** The model file the manifest named at the last read. */
  private modelFile: string | undefined;
  private _hashes = 0;

  private constructor(
    readonly modelDir: string,
    first: Entry,
    private readonly opts: ModelRegistryOptions,
  ) {
    this.entry = first;
    this.modelFile = first.manifest.file;
    this.loader = opts.loader ?? defaultLoader(opts.maxBatch ?? 1024);
  }

  /** Loads the model in `modelDir`; rejects with FraudError INVALID_MODEL when it is broken. */
  static async open(modelDir: string, opts: ModelRegistryOptions = {}): Promise<ModelRegistry> {
    const loader = opts.loader ?? defaultLoader(opts.maxBatch ?? 1024);
    const entry = await ModelRegistry.loadEntry(modelDir, loader);
    if (entry === null) {
      throw new FraudError(ErrorCodes.INVALID_MODEL, `${modelDir}: files changed while loading; retry`);
    }
    return new ModelRegistry(modelDir, entry, { ...opts, loader });
  }

  private static async loadEntry(modelDir: string, loader: ScorerLoader): Promise<Entry | null> {
    const before = await signatureOf(modelDir);
    const manifest = await loadManifest(modelDir);
    const scorer = await loader(modelDir, manifest);
    // Files rewritten during the load: what we loaded may be a mix; drop it and let the next poll retry.
    const after = await signatureOf(modelDir);
    if (before === null || before !== after) {
      await scorer.close().catch(() => {});
      return null;
    }
    return { scorer: new LeasedScorer(scorer), manifest, signature: after };
  }

  /** The model to score the next batch with. Call it per batch; do not keep it across batches. */
  current(): Model {
    return this.entry;
  }

  /** Successful swaps since open(). */
  get reloads(): number {
    return this._reloads;
  }

  /** Rejected new models since open(). */
  get failures(): number {
    return this._failures;
  }

  /** Polls the directory every pollMs (the timer does not keep the process alive). */
  watch(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), this.opts.pollMs ?? 2000);
    this.timer.unref();
  }

  stopWatching(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Checks the directory once; a change is loaded on the check after the one that first saw it (so
   * it swaps ~1–2 poll intervals after the files settle). Resolves to true when it swapped.
   * Concurrent calls share one check.
   */
  check(): Promise<boolean> {
    this.checking ??= this.checkOnce().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  /** Times the files were read and hashed by the watch (not counting loads). */
  get hashes(): number {
    return this._hashes;
  }

  /**
   * signatureOf(), read and hashed only when a stat changed since the last read. The key is taken
   * before the read and kept only when it held through it (a write during the read is seen next time)
   * and the files had not changed within SETTLED_MS.
   */
  private async signature(): Promise<string | null> {
    const before = await statKey(this.modelDir, this.modelFile);
    if (before !== null && before.key === this.seen?.key) return this.seen.sig;
    this._hashes++;
    const { sig, file } = await readSignature(this.modelDir);
    this.modelFile = file;
    const after = await statKey(this.modelDir, file);
    const held = before !== null && after !== null && before.key === after.key;
    this.seen = held && Date.now() - after.changedMs >= SETTLED_MS ? { key: after.key, sig } : null;
    return sig;
  }

  private async checkOnce(): Promise<boolean> {
    const sig = await this.signature();
    if (sig === this.entry.signature || (sig !== null && sig === this.rejected)) {
      this.pending = null;
      return false;
    }
    // Settle: a deploy writes model and manifest one after the other; load only a state that held
    // unchanged for a whole poll interval, not the moment between the two writes.
    if (sig !== this.pending) {
      this.pending = sig;
      return false;
    }
    this.pending = null;
    let next: Entry | null;
    try {
      next = await ModelRegistry.loadEntry(this.modelDir, this.loader);
    } catch (err) {
      this._failures++;
      this.rejected = sig;
      const e =
        err instanceof FraudError && err.code === ErrorCodes.INVALID_MODEL
          ? err
          : new FraudError(
              ErrorCodes.INVALID_MODEL,
              `${this.modelDir}: new model rejected (${(err as Error).message})`,
              {
                cause: err,
              },
            );
      (this.opts.onError ?? defaultOnError)(
        new FraudError(
          e.code,
          `${e.message} (still serving ${this.entry.manifest.name}@${this.entry.manifest.version})`,
          {
            cause: e,
          },
        ),
      );
      return false;
    }
    if (next === null) return false; // mid-write; the next poll sees the settled files
    const previous = this.entry;
    this.entry = next; // the swap: one assignment, after load + warm-up + validation
    this.rejected = null;
    this._reloads++;
    void previous.scorer.retire();
    try {
      this.opts.onReload?.(next.manifest, previous.manifest);
    } catch {
      // A metric callback must not undo or fail a completed swap.
    }
    return true;
  }

  /** Stops watching and closes the current scorer (waits for its in-flight runs). */
  async close(): Promise<void> {
    this.stopWatching();
    await this.checking?.catch(() => {});
    await this.entry.scorer.retire();
  }
}
