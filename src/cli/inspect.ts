import { readGguf } from '../gguf/reader.js';
import { inspectGguf, formatInspect } from '../gguf/inspect.js';

/** `quantscope inspect <file>`: the GGUF header as a report (or JSON). Reads no tensor data. */
export async function inspectCommand(file: string, o: { json?: boolean }): Promise<void> {
  const report = inspectGguf(await readGguf(file));
  process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : formatInspect(report));
}
