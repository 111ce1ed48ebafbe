// The seam between the transaction decoder and wherever writer schemas come from. Without a
// registry the decoder keeps its static id → .avsc map; with one, ids it has not seen are asked for
// here once (before the batch that carries them is decoded) and compiled once.
import { type RegistryClient, RegistryNotFound } from './registry-client.js';

export interface WriterSchemaSource {
  /** For messages: where the schemas come from (no credentials). */
  readonly where: string;
  /**
   * The Avro schema (JSON text) registered under a writer id, or null when the source answers that it
   * has no such id. Throws a FraudError with canRetry when it cannot answer now.
   */
  writerSchema(id: number): Promise<{ schema: string; schemaType: string } | null>;
}

export class RegistryWriterSchemas implements WriterSchemaSource {
  constructor(private readonly client: RegistryClient) {}

  get where(): string {
    return this.client.where;
  }

  async writerSchema(id: number): Promise<{ schema: string; schemaType: string } | null> {
    try {
      return await this.client.schemaById(id);
    } catch (err) {
      if (err instanceof RegistryNotFound) return null;
      throw err;
    }
  }
}
