// Reads and writes the safetensors format (8-byte little-endian header length, a JSON header of
// name -> {dtype, shape, data_offsets}, then the raw little-endian tensor bytes). Written by hand because
// the format is a page long and the npm packages for it are unmaintained or pull native code; F32 is the
// only dtype the engine stores, others are rejected with a clear message.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';

export interface TensorEntry {
  shape: number[];
  data: Float32Array;
}

/**
 * The file as parts: the 8-byte length and padded JSON header, then each tensor's bytes as a view of its
 * data (no copy: a caller can hand views of the wasm heap straight to the file writer).
 */
export function safetensorsParts(
  tensors: Map<string, TensorEntry>,
  metadata: Record<string, string> = {},
): Uint8Array[] {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const names = [...tensors.keys()];
  for (const name of names) {
    const t = tensors.get(name)!;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`safetensors: ${name} has shape [${t.shape}] but ${t.data.length} values`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + n * 4] };
    offset += n * 4;
  }
  let json = JSON.stringify(header);
  // pad the header with spaces so the data starts 8-byte aligned (allowed by the format)
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const hbytes = Buffer.from(json, 'utf8');
  const head = Buffer.alloc(8 + hbytes.length);
  head.writeBigUInt64LE(BigInt(hbytes.length), 0);
  hbytes.copy(head, 8);
  return [
    head,
    ...names.map((name) => {
      const d = tensors.get(name)!.data;
      return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    }),
  ];
}

export function encodeSafetensors(tensors: Map<string, TensorEntry>, metadata: Record<string, string> = {}): Buffer {
  return Buffer.concat(safetensorsParts(tensors, metadata));
}

export function decodeSafetensors(
  buf: Buffer,
  what = 'safetensors',
): { tensors: Map<string, TensorEntry>; metadata: Record<string, string> } {
  if (buf.length < 8) throw new Error(`${what}: file too short to be safetensors`);
  const hlen = Number(buf.readBigUInt64LE(0));
  if (hlen > buf.length - 8) throw new Error(`${what}: header length ${hlen} exceeds the file size`);
  let header: Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>
  >;
  try {
    header = JSON.parse(buf.subarray(8, 8 + hlen).toString('utf8'));
  } catch (e) {
    throw new Error(`${what}: header is not valid JSON (${(e as Error).message})`);
  }
  const base = 8 + hlen;
  const tensors = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = info as Record<string, string>;
      continue;
    }
    const t = info as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (t.dtype !== 'F32')
      throw new Error(`${what}: tensor ${name} has dtype ${t.dtype}; the embedded engine stores F32 only`);
    const [a, b] = t.data_offsets;
    const n = t.shape.reduce((x, y) => x * y, 1);
    if (b - a !== n * 4 || base + b > buf.length) throw new Error(`${what}: tensor ${name} has inconsistent offsets`);
    // copy out: the file buffer's offsets need not be 4-byte aligned
    const data = new Float32Array(n);
    new Uint8Array(data.buffer).set(buf.subarray(base + a, base + b));
    tensors.set(name, { shape: t.shape, data });
  }
  return { tensors, metadata };
}

export function writeSafetensors(
  path: string,
  tensors: Map<string, TensorEntry>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, safetensorsParts(tensors, metadata));
}

export function readSafetensors(path: string): { tensors: Map<string, TensorEntry>; metadata: Record<string, string> } {
  return decodeSafetensors(readFileSync(path), path);
}
