// Replays a schema registry's recorded answers (test/fixtures/schema-registry/answers.json) over real
// HTTP on loopback. Not a registry: no storage, no rules; each test says which recorded answer a route
// gets, and the server records what the client sent.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { fromRoot } from '../../src/package-root.js';

export type AnswerName =
  | 'schemaById'
  | 'schemaNotFound'
  | 'registered'
  | 'lookedUp'
  | 'subjectNotFound'
  | 'compatible'
  | 'incompatible'
  | 'conflict'
  | 'invalidSchema'
  | 'unauthorized'
  | 'storeError';

interface Answer {
  status: number;
  body: unknown;
}

const ANSWERS = JSON.parse(readFileSync(fromRoot('test/fixtures/schema-registry/answers.json'), 'utf8')) as Record<
  AnswerName,
  Answer
>;

export interface Route {
  answer: AnswerName;
  /** Replaces $SCHEMA in the answer. */
  schema?: string;
  /** Replaces $SUBJECT in the answer. */
  subject?: string;
}

export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

export interface RegistryReplay {
  url: string;
  /** `"GET /schemas/ids/42"` → the recorded answer it gets; unlisted routes get Confluent's plain 404. */
  routes: Map<string, Route>;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** The JSON body of a recorded answer with its placeholders filled in. */
export function answer(route: Route): Answer {
  const a = ANSWERS[route.answer];
  const text = JSON.stringify(a.body, (_k, v) =>
    typeof v === 'string' ? v.replaceAll('$SCHEMA', route.schema ?? '').replaceAll('$SUBJECT', route.subject ?? '') : v,
  );
  return { status: a.status, body: JSON.parse(text) };
}

export async function startRegistryReplay(port = 0, tls?: { key: Buffer; cert: Buffer }): Promise<RegistryReplay> {
  const routes = new Map<string, Route>();
  const seen: SeenRequest[] = [];
  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      seen.push({
        method: req.method ?? '',
        path,
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body: text === '' ? undefined : JSON.parse(text),
      });
      const route = routes.get(`${req.method} ${path}`);
      const a = route ? answer(route) : { status: 404, body: { error_code: 404, message: 'HTTP 404 Not Found' } };
      res.writeHead(a.status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
      res.end(JSON.stringify(a.body));
    });
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    routes,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
