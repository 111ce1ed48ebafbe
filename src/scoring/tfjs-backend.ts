// Picks the TF.js backend: tfjs-node (native libtensorflow) when installed, else the WASM backend
// loading its .wasm from disk (offline), else the pure-JS CPU backend.

import { createRequire } from 'node:module';
import path from 'node:path';
import { ErrorCodes, FraudError } from '../errors.js';

export type TfjsBackend = 'tensorflow' | 'wasm' | 'cpu';
export type Tf = typeof import('@tensorflow/tfjs');

export interface LoadedTfjs {
  tf: Tf;
  backend: TfjsBackend;
  /** Why a preferred backend was skipped, e.g. "tensorflow: Cannot find package '@tensorflow/tfjs-node'". */
  skipped: string[];
}

const BACKENDS: readonly TfjsBackend[] = ['tensorflow', 'wasm', 'cpu'];
// A variable specifier: tfjs-node is an optional dependency that fails to install on machines that
// cannot download libtensorflow, so TypeScript must not need its types.
const TFJS_NODE = '@tensorflow/tfjs-node';

let loading: Promise<LoadedTfjs> | null = null;

/**
 * Loads TF.js once per process (backends are process-global in TF.js). FRAUDSCORE_TFJS_BACKEND=
 * tensorflow|wasm|cpu forces one; a forced backend that cannot start is an error, not a silent fallback.
 */
export function loadTfjs(): Promise<LoadedTfjs> {
  loading ??= load(process.env['FRAUDSCORE_TFJS_BACKEND']);
  return loading;
}

async function load(forced: string | undefined): Promise<LoadedTfjs> {
  if (forced !== undefined && forced !== '' && !BACKENDS.includes(forced as TfjsBackend)) {
    throw new FraudError(
      ErrorCodes.INVALID_CONFIG,
      `FRAUDSCORE_TFJS_BACKEND=${forced}: expected one of ${BACKENDS.join(', ')} (or unset for the best available)`,
    );
  }
  const order = forced ? [forced as TfjsBackend] : BACKENDS;
  const skipped: string[] = [];
  for (const backend of order) {
    try {
      const tf = await start(backend);
      return { tf, backend, skipped };
    } catch (err) {
      skipped.push(`${backend}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  loading = null;
  throw new FraudError(ErrorCodes.INVALID_CONFIG, `no TF.js backend could start (${skipped.join('; ')})`);
}

async function start(backend: TfjsBackend): Promise<Tf> {
  if (backend === 'tensorflow') {
    // tfjs-node re-exports @tensorflow/tfjs with the 'tensorflow' backend registered.
    const tf = (await import(TFJS_NODE)) as Tf;
    if (!(await tf.setBackend('tensorflow'))) throw new Error('tfjs-node loaded but its backend did not start');
    return tf;
  }
  const tf = await import('@tensorflow/tfjs');
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the WASM backend reads its .wasm with fs from the prefix given to setWasmPaths (its
    // default would be a path relative to the script, or a CDN in browsers): point it at the
    // package's own dist folder on disk, so it works offline. Trailing separator: it is a prefix.
    const require = createRequire(import.meta.url);
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    wasm.setWasmPaths(`${dist}${path.sep}`);
    if (!(await tf.setBackend('wasm'))) throw new Error(`wasm backend did not initialise from ${dist}`);
    return tf;
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend did not initialise');
  return tf;
}
