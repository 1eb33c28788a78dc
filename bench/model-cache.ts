// The synthesized bench models are big (0.6–2.2 GB each) and take a while to write, so they are
// kept on disk (bench/.cache/ by default) under a name that holds everything their bytes depend on —
// shape, file type and GENERATOR_VERSION — and reused. A file is written under a temporary name and
// renamed when complete, so an interrupted run never leaves a file that looks like a finished one.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, statfsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/paths.js';
import type { BenchFtype, ModelShape } from './format-mix.js';
import { GENERATOR_VERSION, benchModelSize, writeBenchModel } from './synth-model.js';

export const DEFAULT_CACHE_DIR = join(packageRoot(), 'bench', '.cache');

/** Space left free beyond the file itself: the rest of the machine needs some too. */
const DISK_MARGIN_BYTES = 512 * 2 ** 20;

export function cacheFileName(shape: ModelShape, ftype: BenchFtype): string {
  const s = shape;
  return `${s.name}-L${s.nLayer}-E${s.nEmbd}-F${s.nFf}-H${s.nHead}-KV${s.nHeadKv}-V${s.nVocab}-C${s.nCtx}` +
    `-r${s.ropeFreqBase}-e${s.rmsEps}.${ftype}.g${GENERATOR_VERSION}.gguf`;
}

export interface CachedModel {
  path: string;
  bytes: number;
  /** true when this call wrote the file, false when it was already there */
  created: boolean;
  /** seconds spent writing it (0 when reused) */
  seconds: number;
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Temporary files of runs that were killed while writing (`<name>.tmp-<pid>` of a dead pid). */
function removeStaleTemporaries(dir: string, name: string): void {
  for (const f of readdirSync(dir)) {
    const m = f.startsWith(`${name}.tmp-`) ? /\.tmp-(\d+)$/.exec(f) : null;
    if (m && !isAlive(Number(m[1]))) rmSync(join(dir, f), { force: true });
  }
}

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

const gb = (n: number) => `${(n / 1e9).toFixed(2)} GB`;

/** The model file of this shape and file type in `dir`, written first if it is not there yet. */
export async function ensureBenchModel(shape: ModelShape, ftype: BenchFtype, dir = DEFAULT_CACHE_DIR): Promise<CachedModel> {
  mkdirSync(dir, { recursive: true });
  const name = cacheFileName(shape, ftype);
  const path = join(dir, name);
  const bytes = await benchModelSize(shape, ftype);
  if (existsSync(path) && statSync(path).size === bytes) return { path, bytes, created: false, seconds: 0 };

  removeStaleTemporaries(dir, name);
  const free = freeBytes(dir);
  if (free < bytes + DISK_MARGIN_BYTES) {
    throw new Error(`bench: not enough disk space in ${dir} to write ${name}: it needs ${gb(bytes)} ` +
      `(+ ${gb(DISK_MARGIN_BYTES)} margin), ${gb(free)} is free. Free some space or pass --cache-dir <dir>.`);
  }
  const tmp = `${path}.tmp-${process.pid}`;
  const t0 = performance.now();
  try {
    await writeBenchModel(tmp, shape, ftype);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { path, bytes, created: true, seconds: (performance.now() - t0) / 1000 };
}
