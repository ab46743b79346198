/**
 * Preloaded into a child (`node --import ./dist/bench/rss-probe.js …`) by bench/load.ts:
 * when IPAR_RSS_PROBE names a file, samples the resident set every 250 ms and, at exit,
 * writes the peak (getrusage maxRSS, KiB), the samples and the process's CPU time (user +
 * system, µs, every thread) there. Does nothing otherwise.
 */
import { writeFileSync } from 'node:fs';

const out = process.env['IPAR_RSS_PROBE'];
if (out !== undefined && out !== '') {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(process.memoryUsage.rss()), 250);
  timer.unref();
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(out, JSON.stringify({ maxRssKiB: usage.maxRSS, samples, cpuMicroseconds: usage.userCPUTime + usage.systemCPUTime }) + '\n');
  });
}
