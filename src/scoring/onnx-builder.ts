// A minimal protobuf writer and just enough of the ONNX schema (onnx/onnx.proto, field numbers below) to
// emit the placeholder logistic model without Python. Output is deterministic: fields are written in a
// fixed order and floats as little-endian raw_data, so the same parameters always give the same bytes.

/** Protobuf wire types. */
const VARINT = 0;
const LEN = 2;

/** ONNX TensorProto.DataType.FLOAT */
export const ONNX_FLOAT = 1;

/** Appends protobuf fields to a growing list of byte chunks. */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  private varint(value: number | bigint): void {
    let v = BigInt(value);
    // int64 negatives are written as their 64-bit two's complement (10 bytes), as protobuf does.
    if (v < 0n) v = BigInt.asUintN(64, v);
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** int32 / int64 / enum field. */
  int(field: number, value: number | bigint): this {
    this.tag(field, VARINT);
    this.varint(value);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, LEN);
    this.varint(value.length);
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** Embedded message field. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

export interface FloatTensor {
  name: string;
  dims: readonly number[];
  values: ArrayLike<number>;
}

export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name: string;
}

/** A dimension is a fixed size or a symbolic name such as 'N'. */
export type Dim = number | string;

export interface OnnxValueInfo {
  name: string;
  dims: readonly Dim[];
}

export interface OnnxGraphSpec {
  name: string;
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  initializers: readonly FloatTensor[];
  nodes: readonly OnnxNode[];
  producerName: string;
  producerVersion: string;
  docString?: string;
  irVersion?: number;
  opsetVersion?: number;
  metadata?: Readonly<Record<string, string>>;
}

function floatRawData(values: ArrayLike<number>): Uint8Array {
  const buf = new Uint8Array(values.length * 4);
  const view = new DataView(buf.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return buf;
}

// TensorProto: 1 dims, 2 data_type, 8 name, 9 raw_data.
function writeTensor(w: ProtoWriter, t: FloatTensor): void {
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (expected !== t.values.length) {
    throw new Error(
      `initializer ${t.name}: dims [${t.dims.join(',')}] need ${expected} values, got ${t.values.length}`,
    );
  }
  for (const d of t.dims) w.int(1, d);
  w.int(2, ONNX_FLOAT);
  w.string(8, t.name);
  w.bytes(9, floatRawData(t.values));
}

// ValueInfoProto: 1 name, 2 type → TypeProto: 1 tensor_type → Tensor: 1 elem_type, 2 shape →
// TensorShapeProto: 1 dim → Dimension: 1 dim_value | 2 dim_param.
function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, ONNX_FLOAT);
      tensor.message(2, (shape) => {
        for (const d of v.dims) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

// NodeProto: 1 input, 2 output, 3 name, 4 op_type.
function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
}

/**
 * Encodes a ModelProto: 1 ir_version, 2 producer_name, 3 producer_version, 6 doc_string, 7 graph,
 * 8 opset_import (OperatorSetIdProto: 1 domain, 2 version), 14 metadata_props (1 key, 2 value).
 * GraphProto: 1 node, 2 name, 5 initializer, 11 input, 12 output.
 */
export function encodeOnnxModel(spec: OnnxGraphSpec): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, spec.irVersion ?? 8);
  w.string(2, spec.producerName);
  w.string(3, spec.producerVersion);
  if (spec.docString) w.string(6, spec.docString);
  w.message(7, (g) => {
    for (const n of spec.nodes) g.message(1, (m) => writeNode(m, n));
    g.string(2, spec.name);
    for (const t of spec.initializers) g.message(5, (m) => writeTensor(m, t));
    for (const i of spec.inputs) g.message(11, (m) => writeValueInfo(m, i));
    for (const o of spec.outputs) g.message(12, (m) => writeValueInfo(m, o));
  });
  w.message(8, (op) => {
    op.string(1, '');
    op.int(2, spec.opsetVersion ?? 17);
  });
  // Sorted keys so that object insertion order never changes the bytes.
  for (const key of Object.keys(spec.metadata ?? {}).sort()) {
    w.message(14, (m) => m.string(1, key).string(2, spec.metadata![key]!));
  }
  return w.finish();
}

/**
 * The standardise → linear → sigmoid graph: score = sigmoid(((x − mean) / scale) · w + b).
 * Input 'features' float [N, nFeatures], output 'score' float [N, 1].
 */
export function logisticModel(params: {
  mean: ArrayLike<number>;
  scale: ArrayLike<number>;
  weights: ArrayLike<number>;
  bias: number;
  producerVersion: string;
  docString?: string;
  metadata?: Record<string, string>;
}): Uint8Array {
  const n = params.mean.length;
  return encodeOnnxModel({
    name: 'fraudscore_logistic',
    producerName: 'fraudscore',
    producerVersion: params.producerVersion,
    docString: params.docString,
    metadata: params.metadata,
    inputs: [{ name: 'features', dims: ['N', n] }],
    outputs: [{ name: 'score', dims: ['N', 1] }],
    initializers: [
      { name: 'mean', dims: [n], values: params.mean },
      { name: 'scale', dims: [n], values: params.scale },
      { name: 'weights', dims: [n, 1], values: params.weights },
      { name: 'bias', dims: [1], values: [params.bias] },
    ],
    nodes: [
      { name: 'standardise_sub', opType: 'Sub', inputs: ['features', 'mean'], outputs: ['centred'] },
      { name: 'standardise_div', opType: 'Div', inputs: ['centred', 'scale'], outputs: ['z'] },
      { name: 'linear_matmul', opType: 'MatMul', inputs: ['z', 'weights'], outputs: ['zw'] },
      { name: 'linear_add', opType: 'Add', inputs: ['zw', 'bias'], outputs: ['logit'] },
      { name: 'sigmoid', opType: 'Sigmoid', inputs: ['logit'], outputs: ['score'] },
    ],
  });
}
