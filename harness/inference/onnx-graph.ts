/**
 * A small builder for ONNX graphs on top of onnx-proto's generated protobuf classes. Trained
 * baselines export their models with it, and adapter tests use it to write tiny real models that
 * onnxruntime-node then loads. The output is deterministic: the same calls give the same bytes (no
 * timestamps, tensors written as little-endian raw data), so a model file's sha256 can be compared.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Element types a graph input, output or initializer may carry (the ones the harness needs). */
export type ElementType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'string';

const DATA_TYPES: Record<ElementType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
  string: onnx.TensorProto.DataType.STRING,
};

/** A dimension: a fixed size, or a name for a dynamic one (e.g. "batch"). */
export type Dim = number | string;

/** Attribute values: numbers are written as INT when `Number.isInteger`, unless wrapped with `float()`. */
export type AttributeValue = number | string | readonly number[] | FloatAttr | FloatsAttr;

interface FloatAttr {
  kind: 'float';
  value: number;
}
interface FloatsAttr {
  kind: 'floats';
  value: readonly number[];
}

/** Marks a number attribute as FLOAT (e.g. Gemm alpha = 1 would otherwise be written as an INT). */
export function float(value: number): FloatAttr {
  return { kind: 'float', value };
}

/** Marks a list attribute as FLOATS. */
export function floats(value: readonly number[]): FloatsAttr {
  return { kind: 'floats', value };
}

/** Data of an initializer: typed arrays are written as raw little-endian bytes. */
export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array;

export interface GraphBuilderOptions {
  name: string;
  /** Default-domain opset (13 by default: ReduceL2 and friends still take `axes` as an attribute). */
  opset?: number;
  /** IR version written in the model (7 pairs with opset 13). */
  irVersion?: number;
  producerName?: string;
  docString?: string;
}

export class OnnxGraphBuilder {
  readonly #options: Required<Omit<GraphBuilderOptions, 'docString'>> & { docString?: string };
  readonly #nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly #initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  readonly #inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  readonly #outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  readonly #names = new Set<string>();
  readonly #metadata: [string, string][] = [];
  #counter = 0;

  constructor(options: GraphBuilderOptions) {
    this.#options = {
      opset: 13,
      irVersion: 7,
      producerName: 'emotion-eval',
      ...options,
    };
  }

  /** Declares a graph input. */
  input(name: string, type: ElementType, dims: readonly Dim[]): string {
    this.#claim(name);
    this.#inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares a graph output (the value must be produced by some node). */
  output(name: string, type: ElementType, dims: readonly Dim[]): string {
    this.#outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Adds a constant tensor; returns its name. */
  initializer(name: string, data: TensorData, dims: readonly number[]): string {
    this.#claim(name);
    const expected = dims.reduce((a, b) => a * b, 1);
    if (expected !== data.length) {
      throw new Error(`initializer ${name}: ${data.length} values do not fill dims [${dims.join(', ')}]`);
    }
    this.#initializers.push(
      onnx.TensorProto.create({
        name,
        dims: [...dims],
        dataType: tensorType(data),
        rawData: littleEndianBytes(data),
      }),
    );
    return name;
  }

  /** A scalar-like float32 constant of shape [1] (broadcasts against anything). */
  scalar(name: string, value: number): string {
    return this.initializer(name, Float32Array.of(value), [1]);
  }

  /**
   * Adds a node. Outputs default to one fresh name; pass `outputs` to name them (e.g. a graph output).
   * Returns the output names.
   */
  node(
    opType: string,
    inputs: readonly string[],
    options: { outputs?: readonly string[]; attributes?: Record<string, AttributeValue>; name?: string } = {},
  ): string[] {
    const outputs = options.outputs ? [...options.outputs] : [this.#fresh(opType)];
    for (const o of outputs) this.#claim(o);
    this.#nodes.push(
      onnx.NodeProto.create({
        name: options.name ?? `${opType}_${this.#nodes.length}`,
        opType,
        input: [...inputs],
        output: outputs,
        attribute: Object.entries(options.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      }),
    );
    return outputs;
  }

  /** One-output shorthand for `node`. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes?: Record<string, AttributeValue>,
    output?: string,
  ): string {
    return this.node(opType, inputs, { attributes, outputs: output ? [output] : undefined })[0]!;
  }

  /** Adds a key/value to the model's metadata_props (kept in insertion order). */
  metadata(key: string, value: string): this {
    this.#metadata.push([key, value]);
    return this;
  }

  /** The serialised ModelProto. */
  toBytes(): Uint8Array {
    const o = this.#options;
    const graph = onnx.GraphProto.create({
      name: o.name,
      node: this.#nodes,
      initializer: this.#initializers,
      input: this.#inputs,
      output: this.#outputs,
    });
    const model = onnx.ModelProto.create({
      irVersion: o.irVersion,
      producerName: o.producerName,
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: o.opset })],
      graph,
      metadataProps: this.#metadata.map(([key, value]) => onnx.StringStringEntryProto.create({ key, value })),
      ...(o.docString ? { docString: o.docString } : {}),
    });
    return onnx.ModelProto.encode(model).finish();
  }

  #claim(name: string): void {
    if (this.#names.has(name)) throw new Error(`ONNX graph: value name '${name}' defined twice`);
    this.#names.add(name);
  }

  #fresh(prefix: string): string {
    let name: string;
    do name = `${prefix.toLowerCase()}_${this.#counter++}`;
    while (this.#names.has(name));
    return name;
  }
}

function valueInfo(name: string, type: ElementType, dims: readonly Dim[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: DATA_TYPES[type],
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) =>
            typeof d === 'number'
              ? onnx.TensorShapeProto.Dimension.create({ dimValue: d })
              : onnx.TensorShapeProto.Dimension.create({ dimParam: d }),
          ),
        }),
      }),
    }),
  });
}

function attribute(name: string, value: AttributeValue) {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') {
    return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(value) });
  }
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return onnx.AttributeProto.create({ name, type: T.INT, i: value });
    return onnx.AttributeProto.create({ name, type: T.FLOAT, f: value });
  }
  if (isTagged(value)) {
    if (value.kind === 'float') return onnx.AttributeProto.create({ name, type: T.FLOAT, f: value.value });
    return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: [...value.value] });
  }
  const list = value as readonly number[];
  if (list.every(Number.isInteger))
    return onnx.AttributeProto.create({ name, type: T.INTS, ints: [...list] });
  return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: [...list] });
}

function isTagged(value: AttributeValue): value is FloatAttr | FloatsAttr {
  return typeof value === 'object' && value !== null && 'kind' in value;
}

function tensorType(data: TensorData): number {
  if (data instanceof Float32Array) return DATA_TYPES.float32;
  if (data instanceof Float64Array) return DATA_TYPES.float64;
  if (data instanceof BigInt64Array) return DATA_TYPES.int64;
  return DATA_TYPES.int32;
}

/** Raw tensor bytes are little-endian by the ONNX spec, whatever the host's byte order. */
function littleEndianBytes(data: TensorData): Uint8Array {
  const out = new Uint8Array(data.length * data.BYTES_PER_ELEMENT);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(i * 4, data[i]!, true);
    else if (data instanceof Float64Array) view.setFloat64(i * 8, data[i]!, true);
    else if (data instanceof BigInt64Array) view.setBigInt64(i * 8, data[i]!, true);
    else view.setInt32(i * 4, data[i]!, true);
  }
  return out;
}
