/**
 * Synthetic canonical records for benchmarks: a deterministic mix of dynamic
 * allocations, CGNAT inside allocations and port blocks, in time order (how exports
 * arrive). Not the simulator: benchmarks need only a realistic shape, fast.
 */
import { createWriteStream } from 'node:fs';

const BASE = Date.parse('2026-03-01T00:00:00Z');

function v4(base: number, i: number): string {
  const n = base + i;
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
const PUBLIC = (198 << 24) | (51 << 16) | (100 << 8);
const OUTSIDE = (203 << 24) | (0 << 16) | (113 << 8);
const INSIDE = (100 << 24) | (64 << 16);

/** The i-th synthetic record as an NDJSON line. Every third is a port block. */
export function syntheticLine(i: number): string {
  const slot = Math.floor(i / 3);
  const start = BASE + slot * 1000;
  const iso = (ms: number) => new Date(ms).toISOString();
  switch (i % 3) {
    case 0:
      return `{"kind":"allocation","account":"ACC-${String(slot % 100_000).padStart(6, '0')}","ip":"${v4(PUBLIC, slot % 256)}","start":"${iso(start)}","end":"${iso(start + 3_600_000)}","source":"dhcp","mac":"02:00:5e:${((slot >> 16) & 255).toString(16).padStart(2, '0')}:${((slot >> 8) & 255).toString(16).padStart(2, '0')}:${(slot & 255).toString(16).padStart(2, '0')}"}`;
    case 1:
      return `{"kind":"allocation","account":"MOB-${String(slot % 100_000).padStart(6, '0')}","ip":"${v4(INSIDE, slot % 65_536)}","realm":"cgn-a","start":"${iso(start)}","end":"${iso(start + 7_200_000)}","source":"radius","imsi":"23415${String(slot % 100_000).padStart(10, '0')}"}`;
    default: {
      const first = 1024 + (slot % 126) * 512;
      return `{"kind":"nat-block","realm":"cgn-a","insideIp":"${v4(INSIDE, slot % 65_536)}","outsideIp":"${v4(OUTSIDE, slot % 64)}","portFirst":${first},"portLast":${first + 511},"start":"${iso(start)}","end":"${iso(start + 1_800_000)}"}`;
    }
  }
}

/** Write `rows` synthetic lines to `file`. */
export async function writeSynthetic(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  let chunk: string[] = [];
  for (let i = 0; i < rows; i++) {
    chunk.push(syntheticLine(i));
    if (chunk.length === 10_000) {
      if (!out.write(chunk.join("\n") + "\n")) await new Promise<void>((r) => { out.once("drain", () => r()); });
      chunk = [];
    }
  }
  out.write(chunk.length > 0 ? chunk.join('\n') + '\n' : '');
  await new Promise<void>((r) => { out.end(() => r()); });
}
