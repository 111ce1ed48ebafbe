/**
 * A model that turns a micro-batch of feature vectors into fraud probabilities with one inference run.
 * Implementations: ONNX Runtime (champion) and TF.js (challenger).
 */
export interface Scorer {
  readonly name: string;
  readonly version: string;
  readonly format: 'onnx' | 'tfjs';
  /**
   * Scores rows 0..n of `input` (row-major, n × nFeatures, manifest feature order) into out[0..n).
   * Exactly one inference run per call.
   */
  score(input: Float32Array, n: number, out: Float32Array): Promise<void>;
  close(): Promise<void>;
}
