// The scorer image's recipe: Node 24, dependency layers before the sources (cached across source
// changes), runtime files only, a HEALTHCHECK on /healthz. (No Docker engine runs here to build it.)
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/kafka/admin.js';

const root = packageRoot();
const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
const lines = text.split('\n').filter((l) => /^[A-Z]+ /.test(l));
const index = (re: RegExp) => lines.findIndex((l) => re.test(l));

describe('Dockerfile', () => {
  it('builds on Node.js 24', () => {
    expect(text).toMatch(/^ARG NODE_IMAGE=node:24\.\d+\.\d+-/m);
    for (const from of lines.filter((l) => l.startsWith('FROM '))) expect(from).toMatch(/^FROM \$\{NODE_IMAGE\}/);
  });

  it('installs dependencies from package*.json before copying any source', () => {
    const firstCi = index(/^RUN npm ci /);
    expect(index(/^COPY package\.json package-lock\.json/)).toBeLessThan(firstCi);
    expect(index(/^COPY src /)).toBeGreaterThan(firstCi);
    expect(text).not.toMatch(/^COPY \. /m);
  });

  it('ships runtime files only, each of which exists', () => {
    const copies = lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from='));
    for (const c of copies) {
      const src = c.split(/\s+/).slice(1, -1);
      for (const p of src) expect(existsSync(join(root, p)), p).toBe(true);
      for (const p of src) expect(p).not.toMatch(/^(test|training|docs)\b/);
    }
    expect(text).toMatch(/--omit=dev/);
    // Only this platform's onnxruntime binary stays.
    expect(text).toMatch(/keep="linux\/\$\(node -p process\.arch\)"/);
  });

  it('has a HEALTHCHECK on /healthz', () => {
    expect(text).toMatch(/^HEALTHCHECK [^\n]*\\\n\s+CMD [^\n]*\/healthz/m);
  });
});
