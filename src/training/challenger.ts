// The challenger: a small MLP trained with TF.js on the backfill's rows, on the same handbook protocol
// as the champion (training/train.py), saved in TF.js Layers format with its manifest.
//
// Inputs are standardised with the training week's mean and standard deviation; after training the
// standardisation is folded into the first Dense layer (W' = W / scale, b' = b − (mean / scale)·W), so
// the saved model takes the raw features like every other Scorer and needs no extra layer.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { aucRoc, averagePrecision, cardPrecisionAtK, thresholdAtFpr } from '../evaluation/metrics.js';
import { dateDay, dayIndex, handbookSplit } from '../evaluation/protocol.js';
import { FEATURE_NAMES, FEATURE_SET, type FeatureName, N_FEATURES } from '../features/feature-names.js';
import { baselineHistogram } from '../monitoring/histogram.js';
import type { Manifest } from '../scoring/manifest.js';
import { loadTfjs, type Tf } from '../scoring/tfjs-backend.js';
import { saveLayersModel } from '../scoring/tfjs-scorer.js';
import { parseRows, type TrainingRows } from '../simulate/backfill.js';
import { rng } from '../simulate/random.js';
import { featureBaselines } from './baselines.js';

export interface ChallengerOptions {
  rows: string;
  out: string;
  name?: string;
  version?: string;
  trainStart?: string;
  validationTrainStart?: string;
  hidden?: number[];
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface ChallengerResult {
  manifest: Manifest;
  backend: string;
  seconds: number;
}

interface Fitted {
  model: tfjs.LayersModel;
  mean: Float64Array;
  scale: Float64Array;
}

function gather(rows: TrainingRows, idx: readonly number[]): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(idx.length * N_FEATURES);
  const y = new Float32Array(idx.length);
  idx.forEach((i, k) => {
    x.set(rows.features.subarray(i * N_FEATURES, (i + 1) * N_FEATURES), k * N_FEATURES);
    y[k] = rows.isFraud[i];
  });
  return { x, y };
}

async function fitMlp(
  tf: Tf,
  rows: TrainingRows,
  idx: readonly number[],
  o: Required<ChallengerOptions>,
): Promise<Fitted> {
  const { x, y } = gather(rows, idx);
  const n = idx.length;
  const mean = new Float64Array(N_FEATURES);
  const scale = new Float64Array(N_FEATURES);
  for (let i = 0; i < n; i++) for (let f = 0; f < N_FEATURES; f++) mean[f] += x[i * N_FEATURES + f] / n;
  for (let i = 0; i < n; i++)
    for (let f = 0; f < N_FEATURES; f++) scale[f] += (x[i * N_FEATURES + f] - mean[f]) ** 2 / n;
  for (let f = 0; f < N_FEATURES; f++) scale[f] = Math.sqrt(scale[f]) || 1;
  const z = new Float32Array(x.length);
  for (let i = 0; i < z.length; i++) z[i] = (x[i] - mean[i % N_FEATURES]) / scale[i % N_FEATURES];

  let seed = o.seed;
  const model = tf.sequential();
  o.hidden.forEach((units, l) => {
    model.add(
      tf.layers.dense({
        units,
        activation: 'relu',
        ...(l === 0 ? { inputShape: [N_FEATURES] } : {}),
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }),
      }),
    );
  });
  model.add(
    tf.layers.dense({
      units: 1,
      activation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }),
    }),
  );
  model.compile({ optimizer: tf.train.adam(o.learningRate), loss: 'binaryCrossentropy' });

  // Seeded shuffles (model.fit's own shuffle uses Math.random).
  const rand = rng(o.seed + 1000);
  const order = Array.from({ length: n }, (_, i) => i);
  const zs = new Float32Array(z.length);
  const ys = new Float32Array(n);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    order.forEach((src, k) => {
      zs.set(z.subarray(src * N_FEATURES, (src + 1) * N_FEATURES), k * N_FEATURES);
      ys[k] = y[src];
    });
    const xt = tf.tensor2d(zs, [n, N_FEATURES]);
    const yt = tf.tensor2d(ys, [n, 1]);
    const h = await model.fit(xt, yt, { epochs: 1, batchSize: o.batchSize, shuffle: false, verbose: 0 });
    xt.dispose();
    yt.dispose();
    o.log(`  epoch ${epoch + 1}/${o.epochs} loss ${Number(h.history['loss']?.[0]).toFixed(5)}`);
  }

  // Fold the standardisation into the first layer.
  const first = model.layers[0];
  const [w, b] = first.getWeights();
  const wv = (await w.data()) as Float32Array;
  const bv = (await b.data()) as Float32Array;
  const units = o.hidden[0];
  const w2 = new Float32Array(wv.length);
  const b2 = new Float32Array(units);
  for (let u = 0; u < units; u++) {
    let shift = 0;
    for (let f = 0; f < N_FEATURES; f++) {
      w2[f * units + u] = wv[f * units + u] / scale[f];
      shift += (mean[f] / scale[f]) * wv[f * units + u];
    }
    b2[u] = bv[u] - shift;
  }
  first.setWeights([tf.tensor2d(w2, [N_FEATURES, units]), tf.tensor1d(b2)]);
  return { model, mean, scale };
}

function predict(tf: Tf, model: tfjs.LayersModel, rows: TrainingRows, idx: readonly number[]): Float32Array {
  const { x } = gather(rows, idx);
  const out = new Float32Array(idx.length);
  const step = 8192;
  for (let s = 0; s < idx.length; s += step) {
    const m = Math.min(step, idx.length - s);
    const y = tf.tidy(
      () =>
        model.predict(tf.tensor2d(x.subarray(s * N_FEATURES, (s + m) * N_FEATURES), [m, N_FEATURES])) as tfjs.Tensor,
    );
    out.set(y.dataSync() as Float32Array, s);
    y.dispose();
  }
  return out;
}

function protocolMetrics(rows: TrainingRows, idx: readonly number[], score: Float32Array) {
  const y = idx.map((i) => rows.isFraud[i]);
  return {
    auc_roc: aucRoc(y, score),
    average_precision: averagePrecision(y, score),
    card_precision_at_100: cardPrecisionAtK(
      idx.map((i) => dayIndex(rows.eventTime[i])),
      idx.map((i) => rows.customerId[i]),
      y,
      score,
      100,
    ),
  };
}

const round6 = (x: number) => Number(x.toPrecision(6));

export async function trainChallenger(opts: ChallengerOptions): Promise<ChallengerResult> {
  const t0 = performance.now();
  const o: Required<ChallengerOptions> = {
    name: 'challenger',
    version: '3.0.0', // 3: feature set v3
    trainStart: '2018-07-25',
    validationTrainStart: '2018-07-11',
    hidden: [32, 16],
    epochs: 20,
    batchSize: 256,
    learningRate: 1e-3,
    seed: 0,
    log: () => {},
    ...opts,
  };
  const { tf, backend } = await loadTfjs();
  o.log(`TF.js backend: ${backend}`);
  const first = dateDay(o.validationTrainStart);
  const last = dateDay(o.trainStart) + 21;
  const rows = parseRows(await readFile(o.rows, 'utf8'), (t) => {
    const d = dayIndex(t);
    return d >= first && d < last;
  });
  o.log(`rows ${o.validationTrainStart} .. +${last - first} days: ${rows.n}`);

  // Thresholds on the validation split: a model trained on the earlier week, scored on the later one.
  const val = handbookSplit(rows, o.validationTrainStart);
  o.log(`validation: train ${val.train.length} rows, validate ${val.test.length}`);
  const vfit = await fitMlp(tf, rows, val.train, o);
  const vscore = predict(tf, vfit.model, rows, val.test);
  vfit.model.dispose();
  const vy = val.test.map((i) => rows.isFraud[i]);
  const validation = protocolMetrics(rows, val.test, vscore);
  const review = thresholdAtFpr(vy, vscore, 0.01);
  const decline = thresholdAtFpr(vy, vscore, 0.001);
  o.log(`validation: ${JSON.stringify(validation)}; review ${review}, decline ${decline}`);

  const split = handbookSplit(rows, o.trainStart);
  o.log(`final: train ${split.train.length} rows, test ${split.test.length}`);
  const fitted = await fitMlp(tf, rows, split.train, o);
  const testScore = predict(tf, fitted.model, rows, split.test);
  const testMetrics = protocolMetrics(rows, split.test, testScore);
  o.log(`test week: ${JSON.stringify(testMetrics)}`);

  // Drift baselines: features over the training week, the score over the (unlabelled) delay week.
  const d0 = dateDay(o.trainStart);
  const delayIdx: number[] = [];
  for (let i = 0; i < rows.n; i++) {
    const d = dayIndex(rows.eventTime[i]);
    if (d >= d0 + 7 && d < d0 + 14) delayIdx.push(i);
  }
  const delayScore = predict(tf, fitted.model, rows, delayIdx);
  const features = featureBaselines(rows, split.train);
  // Importance: the share of first-layer weight magnitude on each standardised input.
  const w = (await fitted.model.layers[0].getWeights()[0].data()) as Float32Array;
  const units = o.hidden[0];
  const mass = FEATURE_NAMES.map((_, f) => {
    let s = 0;
    for (let u = 0; u < units; u++) s += Math.abs(w[f * units + u] * fitted.scale[f]);
    return s;
  });
  const total = mass.reduce((a, b) => a + b, 0);
  const importance = Object.fromEntries(FEATURE_NAMES.map((n, f) => [n, round6(mass[f] / total)])) as Record<
    FeatureName,
    number
  >;

  await mkdir(o.out, { recursive: true });
  await saveLayersModel(fitted.model, o.out);
  fitted.model.dispose();
  const manifest: Manifest = {
    name: o.name,
    format: 'tfjs',
    version: o.version,
    description:
      `MLP ${N_FEATURES}→${o.hidden.join('→')}→1 (ReLU, sigmoid) trained with TF.js (${backend} backend) on ` +
      `${o.trainStart}..+7 days of the backfilled simulation; input standardisation folded into the first layer. ` +
      'Runs in shadow as the challenger. Thresholds: REVIEW at 1 % and DECLINE at 0.1 % false-positive rate on ' +
      `the validation split (trained ${o.validationTrainStart}..+7 days, scored on ${o.trainStart}..+7 days).`,
    file: 'model.json',
    input_name: 'features',
    output_name: 'score',
    feature_set: FEATURE_SET,
    features: [...FEATURE_NAMES],
    thresholds: { review: round6(review), decline: round6(decline) },
    importance,
    baseline: { features, score: baselineHistogram(delayScore) },
    metrics: {
      auc_roc: round6(testMetrics.auc_roc),
      average_precision: round6(testMetrics.average_precision),
      card_precision_at_100: round6(testMetrics.card_precision_at_100),
      validation_auc_roc: round6(validation.auc_roc),
      validation_average_precision: round6(validation.average_precision),
      validation_card_precision_at_100: round6(validation.card_precision_at_100),
    },
    trained_on: {
      data: { rows: path.basename(o.rows) },
      protocol: {
        train: [o.trainStart, '+7 days'],
        delay_days: 7,
        validation_train: [o.validationTrainStart, '+7 days'],
      },
      hyperparameters: {
        hidden: o.hidden,
        epochs: o.epochs,
        batch_size: o.batchSize,
        learning_rate: o.learningRate,
        optimizer: 'adam',
        loss: 'binaryCrossentropy',
        seed: o.seed,
      },
      standardisation: { mean: Array.from(fitted.mean, round6), scale: Array.from(fitted.scale, round6) },
      code: 'src/training/challenger.ts (fraudscore train-challenger)',
      backend,
      date: new Date().toISOString(),
    },
  };
  await writeFile(path.join(o.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, backend, seconds: (performance.now() - t0) / 1000 };
}
