// Finds and reads the feature store's Lua scripts. They stay in src/features/lua/ (tsc does not copy
// .lua files to dist/), so both `vitest` on src/ and `node` on dist/src/ resolve them from the package root.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LuaScript {
  /** File name, e.g. 'compact-customer-1.lua' (the number is how many KEYS it takes). */
  readonly name: string;
  readonly numberOfKeys: number;
  readonly source: string;
}

let packageRoot: string | undefined;

/** The nearest folder at or above this module that holds a package.json. */
export function findPackageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  if (packageRoot !== undefined) return packageRoot;
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      packageRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
}

export function luaPath(name: string): string {
  return join(findPackageRoot(), 'src', 'features', 'lua', name);
}

export async function readLuaScript(name: string): Promise<LuaScript> {
  const match = /-(\d+)\.lua$/.exec(name);
  if (match === null) throw new Error(`Lua script name must end in -<numberOfKeys>.lua: ${name}`);
  return { name, numberOfKeys: Number(match[1]), source: await readFile(luaPath(name), 'utf8') };
}
