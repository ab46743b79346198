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
    {
      // A subscriber keeps its router (MAC) across leases, as in real DHCP logs.
      const sub = slot % 100_000;
      return `{"kind":"allocation","account":"ACC-${String(sub).padStart(6, '0')}","ip":"${v4(PUBLIC, slot % 256)}","start":"${iso(start)}","end":"${iso(start + 200_000)}","source":"dhcp","mac":"02:00:5e:${((sub >> 16) & 255).toString(16).padStart(2, '0')}:${((sub >> 8) & 255).toString(16).padStart(2, '0')}:${(sub & 255).toString(16).padStart(2, '0')}"}`;
    }
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

/**
 * A request aimed at the i-th synthetic slot: through a port block with its port (even i)
 * or at a dynamic address (odd i), one second after the record started.
 */
export function syntheticRequest(i: number, slots: number): string {
  const slot = (i * 7919) % slots;
  const at = new Date(BASE + slot * 1000 + 1000).toISOString();
  if (i % 2 === 0) {
    const first = 1024 + (slot % 126) * 512;
    return `{"ref":"B${i}","observations":[{"sourceIp":"${v4(OUTSIDE, slot % 64)}","sourcePort":${first + 100},"time":"${at}"}],"toleranceSeconds":1}`;
  }
  return `{"ref":"D${i}","observations":[{"sourceIp":"${v4(PUBLIC, slot % 256)}","time":"${at}"}],"toleranceSeconds":1}`;
}

/** Address-space records for the synthetic operator (so observations classify). */
export const SYNTHETIC_SPACE = [
  '{"kind":"address-space","prefix":"198.51.100.0/24","role":"dynamic"}',
  '{"kind":"address-space","prefix":"203.0.113.0/26","role":"cgnat-outside","realm":"cgn-a"}',
];
