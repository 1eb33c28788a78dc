import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root folder, found from this module's location (works from src/ and dist/src/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'quantscope') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('quantscope: cannot find the package root');
    dir = parent;
  }
}

/** The small trained model that ships in models/, used when no model is given. */
export const DEFAULT_MODEL_FILE = 'stories260K.gguf';

export function defaultModelPath(): string {
  return join(packageRoot(), 'models', DEFAULT_MODEL_FILE);
}
