/**
 * Preloaded into a child (`node --import ./dist/bench/rss-probe.js …`) by bench/load.ts:
 * when IPAR_RSS_PROBE names a file, samples the resident set every 250 ms and, at exit,
 * writes the peak (getrusage maxRSS, KiB) and the samples there. Does nothing otherwise.
 */
import { writeFileSync } from 'node:fs';

const out = process.env['IPAR_RSS_PROBE'];
if (out !== undefined && out !== '') {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(process.memoryUsage.rss()), 250);
  timer.unref();
  process.on('exit', () => {
    writeFileSync(out, JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, samples }) + '\n');
  });
}
