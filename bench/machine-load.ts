// How busy the machine is with other work: the bench's numbers (llama.cpp's multi-threaded ones most of
// all) drop when other processes share the cores, so the report records it — sampled while the bench
// sleeps, and over each measuring child's run minus that child's own CPU time. Linux (/proc/stat);
// elsewhere the 1-minute load average stands in and per-run figures are left out.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

export interface CpuSample { busy: number; total: number; wall: number; self: number }

/** System-wide busy and total CPU ticks (/proc/stat), wall time and this process's CPU seconds. */
export function cpuSample(): CpuSample | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]; // "cpu  user nice system idle iowait irq softirq steal …"
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = v[3] + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const u = process.cpuUsage();
    return { busy: total - idle, total, wall: performance.now() / 1000, self: (u.user + u.system) / 1e6 };
  } catch {
    return null;
  }
}

/**
 * Cores used on average between two samples by processes other than this one and the CPU seconds
 * `excluded` (a child's own use); null without /proc/stat or over too short a time.
 */
export function otherCores(a: CpuSample | null, b: CpuSample | null, excluded = 0): number | null {
  if (!a || !b || b.total === a.total || b.wall - a.wall < 0.05) return null;
  const allCores = ((b.busy - a.busy) / (b.total - a.total)) * cpus().length;
  const ours = (b.self - a.self + excluded) / (b.wall - a.wall);
  return Math.max(0, allCores - ours);
}

/** Cores kept busy by other processes over `ms` milliseconds while this one sleeps. */
export async function busyCores(ms = 1000): Promise<number> {
  const a = cpuSample();
  await sleep(ms);
  return otherCores(a, cpuSample()) ?? loadavg()[0];
}
