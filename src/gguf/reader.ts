import { open, type FileHandle } from 'node:fs/promises';
import { GgufError } from '../errors.js';
import { ByteCursor, type RefillRequest } from './byte-cursor.js';
import { parseHeader } from './header-parser.js';
import type { GgufFile } from './types.js';

export { getArray, getBoolean, getNumber, getString, getStringArray, type GgufArrayValue } from './metadata.js';

export interface ReadGgufOptions {
  /** bytes fetched per read when the header parser runs past its buffer (default 1 MiB) */
  readonly chunkSize?: number;
}

const DEFAULT_CHUNK_SIZE = 1 << 20;

/** Parse a GGUF file held in memory (tests, fetched buffers). */
export function parseGguf(bytes: Uint8Array, path = '<memory>'): GgufFile {
  const cursor = new ByteCursor(path, bytes.byteLength);
  cursor.setWindow(0, bytes);
  const step = parseHeader(cursor).next();
  // The parser asks for a refill only when its window lacks bytes the file has; here the window is the file.
  if (!step.done) throw new Error('internal error: in-memory GGUF parse requested more bytes');
  return step.value;
}

/**
 * Read the header of a GGUF file (metadata and tensor infos) in chunks, never the tensor data:
 * tensors are later read one by one through their `fileOffset` / `nBytes`.
 */
export async function readGguf(path: string, options: ReadGgufOptions = {}): Promise<GgufFile> {
  const chunkSize = Math.max(1, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (cause) {
    throw new GgufError(path, 0, `cannot open file: ${(cause as Error).message}`, { cause });
  }
  try {
    const stats = await fh.stat();
    if (!stats.isFile()) throw new GgufError(path, 0, 'not a regular file');
    const { size } = stats;
    const cursor = new ByteCursor(path, size);
    const parser = parseHeader(cursor);
    for (let step = parser.next(); ; step = parser.next()) {
      if (step.done) return step.value;
      cursor.setWindow(step.value.at, await readWindow(fh, path, size, step.value, chunkSize));
    }
  } finally {
    await fh.close();
  }
}

/** At least the requested bytes (which the parser has checked are inside the file), up to a chunk. */
async function readWindow(fh: FileHandle, path: string, fileSize: number, request: RefillRequest, chunkSize: number) {
  const length = Math.min(fileSize - request.at, Math.max(request.length, chunkSize));
  const window = new Uint8Array(length);
  for (let filled = 0; filled < length;) {
    const at = request.at + filled;
    const bytesRead = await fh.read(window, filled, length - filled, at).then(
      (result) => result.bytesRead,
      (cause: Error) => { throw new GgufError(path, at, `cannot read file: ${cause.message}`, { cause }); },
    );
    if (bytesRead === 0) throw new GgufError(path, at, 'file shrank while its header was being read');
    filled += bytesRead;
  }
  return window;
}
