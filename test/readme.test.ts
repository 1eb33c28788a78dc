// The README's scripted comparison runs as written: the test takes the code block that follows the
// `<!-- example: compare-script -->` marker, runs it with node from the package root (where
// `import 'quantscope'` resolves to the built package through its own "exports"), and checks every
// line it prints against the API's numbers.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareFiles } from '../src/compare/index.js';
import { ROOT } from './helpers/fixtures.js';

function readmeExample(marker: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf(`<!-- example: ${marker} -->`);
  expect(at, `README has no ${marker} example`).toBeGreaterThan(0);
  const m = /```js\n([\s\S]*?)```/.exec(readme.slice(at));
  expect(m).not.toBeNull();
  return m![1];
}

describe('README: scripted comparison with the public API', () => {
  it('is about a dozen lines and prints one line per file with the report\'s numbers', async () => {
    const code = readmeExample('compare-script');
    expect(code.trim().split('\n').length).toBeLessThanOrEqual(15);
    const file = join(ROOT, 'dist', 'readme-compare-script.mjs');
    writeFileSync(file, code);
    let r;
    try {
      r = spawnSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    } finally {
      rmSync(file, { force: true });
    }
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);

    const formats = ['F16', 'Q8_0', 'Q4_K_M', 'Q4_0', 'Q2_K'];
    const report = await compareFiles(formats.map((f) => join(ROOT, `test/fixtures/models/kjv-austen-4l-256d.${f}.gguf`)),
      { prompt: 'And it came to pass', nPredict: 16 });
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(formats.length);
    report.files.forEach((f, i) => {
      const drift = f.divergence.at(-1)?.relRms ?? 0;
      expect(lines[i]).toBe(`${f.file.format.padEnd(7)} ${JSON.stringify(f.next.text)} rank in others ${f.next.rankIn.join('/')} ` +
        `KL ${f.agreement ? f.agreement.kl.toExponential(2) : 'base'} drift ${(100 * drift).toFixed(1)}% parts at ${f.continuation!.partsAt ?? '-'}`);
    });
    // the README shows the output as it is
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const shown = /It prints:\n\n```\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('<!-- example: compare-script -->')));
    expect(shown?.[1]).toBe(r.stdout);
    // what the lines say, in numbers: Q2_K drifts most, and every file starts with llama.cpp's ","
    expect(lines[4]).toMatch(/^Q2_K {4}"," .* drift 28\.\d% parts at 7$/);
  }, 90_000);
});
