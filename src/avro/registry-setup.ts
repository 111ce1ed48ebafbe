// What `run` does with a schema registry at start: the decision schema registered (or looked up)
// under its subject, whose id then frames every decision; the reader schemas of transactions and
// labels checked against what producers registered; a writer schema source for the decoder.
// Subjects follow Confluent's TopicNameStrategy: `<topic>-value`.
import { readFileSync } from 'node:fs';
import { ErrorCodes, FraudError } from '../errors.js';
import { fromRoot } from '../package-root.js';
import { RegistryClient, RegistryNotFound } from './registry-client.js';
import { RegistryWriterSchemas, type WriterSchemaSource } from './writer-schemas.js';

export interface SchemaRegistryOptions {
  url: string;
  username?: string;
  password?: string;
  /** A file whose first line is the password (a mounted secret); exclusive with `password`. */
  passwordFile?: string;
  caFile?: string;
  /** Register the decision schema (true) or require it to be registered already (false). */
  autoRegister: boolean;
  /** How long a registry that does not answer is retried, at start and for each new writer id. */
  unavailableMs: number;
}

export interface SchemaRegistrySetup {
  client: RegistryClient;
  writerSchemas: WriterSchemaSource;
  /** The registry's id of schemas/decision.avsc under `<decisions topic>-value`. */
  decisionSchemaId: number;
}

export const subjectOf = (topic: string): string => `${topic}-value`;

/** A schema file as the registry should see it: parsed and printed compactly (whitespace is not content). */
function schemaText(path: string): string {
  return JSON.stringify(JSON.parse(readFileSync(fromRoot(path), 'utf8')));
}

/** A client with the password read from its file, if one is given. */
function clientFor(opts: Omit<SchemaRegistryOptions, 'autoRegister' | 'unavailableMs'>): RegistryClient {
  let password = opts.password;
  if (opts.passwordFile !== undefined) {
    try {
      password = readFileSync(opts.passwordFile, 'utf8').split(/\r?\n/)[0];
    } catch (err) {
      throw new FraudError(
        ErrorCodes.INVALID_CONFIG,
        `schema registry password file ${opts.passwordFile} cannot be read: ${(err as Error).message}`,
      );
    }
  }
  return new RegistryClient({ url: opts.url, username: opts.username, password, caFile: opts.caFile });
}

export async function setUpSchemaRegistry(
  opts: SchemaRegistryOptions,
  topics: { transactions: string; decisions: string; labels: string },
): Promise<SchemaRegistrySetup> {
  const client = clientFor(opts);
  try {
    const decisions = subjectOf(topics.decisions);
    const decision = schemaText('schemas/decision.avsc');
    const decisionSchemaId = await retrying(opts.unavailableMs, async () => {
      if (opts.autoRegister) return client.register(decisions, decision);
      try {
        return await client.lookup(decisions, decision);
      } catch (err) {
        if (!(err instanceof RegistryNotFound)) throw err;
        throw new FraudError(
          ErrorCodes.SCHEMA_INCOMPATIBLE,
          `schemas/decision.avsc is not registered under subject ${decisions} in ${client.where} (${err.message}); register it or turn --schema-registry-auto-register on`,
        );
      }
    });
    const readers: [string, string][] = [[topics.transactions, 'schemas/transaction.avsc']];
    if (topics.labels !== '') readers.push([topics.labels, 'schemas/label.avsc']);
    for (const [topic, path] of readers) {
      const subject = subjectOf(topic);
      // Under the subject's rule (BACKWARD by default) "compatible" means this reader reads the latest
      // writer; a subject with no version yet has nothing to be incompatible with.
      const ok = await retrying(opts.unavailableMs, () => client.isCompatible(subject, schemaText(path)));
      if (!ok) {
        throw new FraudError(
          ErrorCodes.SCHEMA_INCOMPATIBLE,
          `${path} cannot read what subject ${subject} in ${client.where} holds (the registry says incompatible); evolve the producer's schema compatibly`,
        );
      }
    }
    return { client, writerSchemas: new RegistryWriterSchemas(client), decisionSchemaId };
  } catch (err) {
    client.close();
    throw err;
  }
}

/**
 * The producer side (`fraudscore replay`): registers schemas/transaction.avsc and schemas/label.avsc
 * under their topics' subjects and returns the ids to frame records with.
 */
export async function registerProducerSchemas(
  opts: Omit<SchemaRegistryOptions, 'autoRegister'>,
  topics: { transactions: string; labels?: string },
): Promise<{ transaction: number; label: number | undefined }> {
  const client = clientFor(opts);
  try {
    const register = (topic: string, path: string) =>
      retrying(opts.unavailableMs, () => client.register(subjectOf(topic), schemaText(path)));
    const transaction = await register(topics.transactions, 'schemas/transaction.avsc');
    const label = topics.labels === undefined ? undefined : await register(topics.labels, 'schemas/label.avsc');
    return { transaction, label };
  } finally {
    client.close();
  }
}

/** Retries what fails with canRetry for up to `ms`, then throws FRAUD_REGISTRY_UNAVAILABLE. */
async function retrying<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  let delay = 100;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof FraudError && err.canRetry)) throw err;
      if (Date.now() + delay > deadline) {
        throw new FraudError(ErrorCodes.REGISTRY_UNAVAILABLE, `${err.message}; gave up after ${ms} ms`, {
          cause: err,
        });
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(2 * delay, 2000);
    }
  }
}
