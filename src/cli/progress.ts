import { basename } from 'node:path';
import type { LoadProgress } from '../model/weights.js';

const MB = 1024 * 1024;

/**
 * A load progress bar on stderr. On a terminal it redraws one line; elsewhere (pipes, CI logs)
 * it stays quiet until the end and prints a single summary line.
 */
export function loadProgress(path: string, stream: NodeJS.WriteStream = process.stderr) {
  const name = basename(path);
  const started = performance.now();
  let lastDraw = 0;
  return {
    onProgress(p: LoadProgress): void {
      if (!stream.isTTY) return;
      const now = performance.now();
      if (now - lastDraw < 80 && p.loadedBytes < p.totalBytes) return;
      lastDraw = now;
      const frac = p.totalBytes ? p.loadedBytes / p.totalBytes : 1;
      const width = 24;
      const filled = Math.round(frac * width);
      stream.write(`\rloading ${name} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` +
        `${(frac * 100).toFixed(0).padStart(3)}% ${(p.loadedBytes / MB).toFixed(1)}/${(p.totalBytes / MB).toFixed(1)} MiB`);
    },
    done(bytes: number): void {
      if (stream.isTTY) stream.write('\r\x1b[K');
      stream.write(`loaded ${name}: ${(bytes / MB).toFixed(1)} MiB of weights in ${(performance.now() - started).toFixed(0)} ms\n`);
    },
  };
}
