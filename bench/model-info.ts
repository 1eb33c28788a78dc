// What the e2e bench reads off a GGUF header: bytes per type, the layers' main weight type, and the
// weight bytes one decoded token streams through.
import { basename } from 'node:path';
import { llamaFileTypeName } from '../src/gguf/file-types.js';
import type { GgufFile } from '../src/gguf/types.js';
import { ggmlTypeName } from '../src/quant/ggml-types.js';

/** bytes of tensor data per ggml type */
export function tensorBytes(file: GgufFile): Record<string, number> {
  const bytes: Record<string, number> = {};
  for (const t of file.tensors) bytes[ggmlTypeName(t.type)] = (bytes[ggmlTypeName(t.type)] ?? 0) + t.nBytes;
  return bytes;
}

/** The type of most of the layers' matrix bytes (the embedding and output matrices can differ, and in
 *  small shapes outweigh the layers). */
export function mainMatrixType(file: GgufFile): string {
  const bytes: Record<string, number> = {};
  const matrices = file.tensors.filter((t) => t.dims.filter((d) => d > 1).length >= 2);
  const layers = matrices.filter((t) => t.name.startsWith('blk.'));
  for (const t of layers.length ? layers : matrices) bytes[ggmlTypeName(t.type)] = (bytes[ggmlTypeName(t.type)] ?? 0) + t.nBytes;
  return Object.entries(bytes).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'F32';
}

/** Weights read per decoded token: every tensor, except that only one row of the embedding table is
 *  looked up (all of it when it doubles as the output matrix). */
export function decodeBytesPerToken(file: GgufFile): number {
  const hasOutput = file.tensors.some((t) => t.name === 'output.weight');
  let bytes = 0;
  for (const t of file.tensors) {
    if (t.name === 'token_embd.weight' && hasOutput) bytes += t.nBytes / (t.dims[1] ?? 1); // one row looked up
    else bytes += t.nBytes;
  }
  return bytes;
}

/** A file's format name from general.file_type (e.g. Q4_K_M), else its file name. */
export const fileFormatName = (file: GgufFile) => {
  const ft = file.metadata.get('general.file_type')?.value;
  return typeof ft === 'number' ? llamaFileTypeName(ft).replace(/^(MOSTLY|ALL)_/, '') : basename(file.path);
};
