import { type ChildProcess, spawn } from 'node:child_process';
import { fromRoot } from '../../src/package-root.js';

export interface ScorerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves when a log line matching `re` has been printed. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves with how it exited (at once if it had). */
  stop(graceMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the built CLI (`node bin/fraudscore.js run ...`) as a separate process, like production. */
export function startScorer(args: string[], env: Record<string, string>): ScorerProcess {
  return startCli('run', args, env);
}

/** Runs any built CLI command as a separate process. */
export function startCli(command: string, args: string[], env: Record<string, string> = {}): ScorerProcess {
  const child = spawn(process.execPath, [fromRoot('bin/fraudscore.js'), command, ...args], {
    env: { ...process.env, FRAUDSCORE_PROGRESS: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const onData = (b: Buffer) => {
    out += b.toString();
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].re.test(out)) {
        waiters[i].resolve();
        waiters.splice(i, 1);
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => out,
    exited,
    async stop(graceMs) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const how = await exited;
      clearTimeout(killer);
      return how;
    },
    waitFor(re, timeoutMs = 60_000) {
      if (re.test(out)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`scorer did not print ${re} within ${timeoutMs} ms; output:\n${out.slice(-3000)}`)),
          timeoutMs,
        );
        waiters.push({
          re,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          if (!re.test(out)) reject(new Error(`scorer exited before printing ${re}; output:\n${out.slice(-3000)}`));
        });
      });
    },
  };
}
