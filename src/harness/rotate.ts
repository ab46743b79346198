/**
 * Rotated logs for the accuracy harness (issue 15 item 5): an operator's canonical records
 * as hourly files, each ingested in a run of its own. A record whose interval crosses an
 * hour boundary appears open (`end: null`, "open when exported") in the file of the hour
 * it started, and whole in the file of the hour it ended, as an hourly export writes it;
 * address space, subscribers, deterministic configuration and declared gaps come first.
 */
import type { CanonicalRecordInput } from '../records.js';

const HOUR = 3_600_000;

/**
 * The runs, in order: the records that are not intervals of use, then one run an hour.
 *
 * @example
 * hourlyRuns(world.records).length; // 25 for a day of records
 */
export function hourlyRuns(records: readonly CanonicalRecordInput[]): CanonicalRecordInput[][] {
  const first: CanonicalRecordInput[] = [];
  const hours = new Map<number, CanonicalRecordInput[]>();
  const put = (hour: number, r: CanonicalRecordInput) => {
    let run = hours.get(hour);
    if (run === undefined) hours.set(hour, (run = []));
    run.push(r);
  };
  for (const r of records) {
    if (r.kind !== 'allocation' && r.kind !== 'nat-block' && r.kind !== 'nat-session') {
      first.push(r);
      continue;
    }
    const startHour = Math.floor(Date.parse(r.start as string) / HOUR);
    const end = r.end === null || r.end === undefined ? null : Date.parse(r.end as string);
    if (end === null || Math.floor(end / HOUR) === startHour) {
      put(startHour, r);
      continue;
    }
    const { endInferred: _dropped, ...open } = r as CanonicalRecordInput & { endInferred?: boolean };
    put(startHour, { ...open, end: null } as CanonicalRecordInput);
    put(Math.floor(end / HOUR), r);
  }
  return [first, ...[...hours].sort((a, b) => a[0] - b[0]).map(([, run]) => run)];
}
