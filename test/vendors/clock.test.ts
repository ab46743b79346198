import { describe, expect, it } from 'vitest';
import { YearTracker, ZoneClock, abbreviationOverrides, epochDigitsMs, wallMs, zoneWordOffset } from '../../src/ingest/vendors/clock.js';
import { IparError } from '../../src/problems.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('ZoneClock: local wall time to UTC', () => {
  const london = new ZoneClock('Europe/London');
  const cases: { name: string; wall: [number, number, number, number, number, number]; early: string; late?: string }[] = [
    { name: 'winter is GMT', wall: [2024, 1, 15, 10, 0, 0], early: '2024-01-15T10:00:00.000Z' },
    { name: 'summer is BST, one hour ahead', wall: [2024, 7, 1, 10, 0, 0], early: '2024-07-01T09:00:00.000Z' },
    // 2024-10-27 01:30 happened twice in London: 00:30Z (BST) and 01:30Z (GMT).
    {
      name: 'a time in the autumn fold has both readings',
      wall: [2024, 10, 27, 1, 30, 0],
      early: '2024-10-27T00:30:00.000Z',
      late: '2024-10-27T01:30:00.000Z',
    },
    { name: 'the hour after the fold is GMT only', wall: [2024, 10, 27, 2, 0, 0], early: '2024-10-27T02:00:00.000Z' },
  ];
  it.each(cases)('$name', ({ wall, early, late }) => {
    const w = wallMs(...wall)!;
    const r = london.fromWall(w, 'x');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(iso(r.value.early)).toBe(early);
    expect(iso(r.value.late)).toBe(late ?? early);
  });

  it('refuses a time skipped by the spring change', () => {
    const r = london.fromWall(wallMs(2024, 3, 31, 1, 30, 0)!, '2024-03-31 01:30');
    expect(r).toMatchObject({ ok: false, reason: 'NONEXISTENT_LOCAL_TIME' });
  });

  it('handles a zone whose change is not on the hour (Lord Howe, 30 minutes)', () => {
    const lh = new ZoneClock('Australia/Lord_Howe');
    // 2024-04-07 02:00 local (+11) falls back to 01:30 (+10:30): 01:45 happens twice.
    const r = lh.fromWall(wallMs(2024, 4, 7, 1, 45, 0)!, 'x');
    expect(r.ok && [iso(r.value.early), iso(r.value.late)]).toEqual(['2024-04-06T14:45:00.000Z', '2024-04-06T15:15:00.000Z']);
  });

  it('rejects an unknown zone name with a typed error', () => {
    expect(() => new ZoneClock('Mars/Olympus')).toThrow(IparError);
  });
});

describe('zone abbreviations', () => {
  const none = new Map<string, number>();
  it.each([
    ['UTC', 0],
    ['gmt', 0],
    ['(GMT)', 0],
    ['Z', 0],
    ['CET', 60],
    ['CEST', 120],
    ['WEST', 60],
    ['JST', 540],
    ['HKT', 480],
    ['WIB', 420],
    ['EST', -300],
    ['EDT', -240],
    ['PST', -480],
    ['PDT', -420],
    ['-0500', -300],
    ['+05:30', 330],
  ])('%s is %i minutes', (word, minutes) => {
    expect(zoneWordOffset(word, none)).toEqual({ ok: true, offset: minutes });
  });
  it.each(['IST', 'BST', 'CST'])('%s is refused as ambiguous', (word) => {
    expect(zoneWordOffset(word, none)).toMatchObject({ ok: false, reason: 'AMBIGUOUS_ZONE_ABBREVIATION' });
  });
  it('refuses an abbreviation it does not know', () => {
    expect(zoneWordOffset('XYZT', none)).toMatchObject({ ok: false, reason: 'UNKNOWN_ZONE_ABBREVIATION' });
  });
  it('lets the operator pin an ambiguous or colliding abbreviation', () => {
    const pinned = abbreviationOverrides({ IST: '+05:30', pst: '+08:00' });
    expect(zoneWordOffset('IST', pinned)).toEqual({ ok: true, offset: 330 });
    expect(zoneWordOffset('PST', pinned)).toEqual({ ok: true, offset: 480 });
    expect(() => abbreviationOverrides({ IST: 'Asia/Kolkata' })).toThrow(IparError);
  });
});

describe('YearTracker: years for year-less headers', () => {
  it('rolls over from December to January', () => {
    const y = new YearTracker(2024);
    expect([11, 12, 12, 1, 2].map((m) => y.resolve(m))).toEqual([2024, 2024, 2024, 2025, 2025]);
  });
  it('reads a late December line after January as the previous year', () => {
    const y = new YearTracker(2025);
    expect([1, 12, 1].map((m) => y.resolve(m))).toEqual([2025, 2024, 2025]);
  });
  it('keeps the year for small back-steps (out-of-order months)', () => {
    const y = new YearTracker(2024);
    expect([4, 3, 7, 3].map((m) => y.resolve(m))).toEqual([2024, 2024, 2024, 2024]);
  });
  it('knows no year until the option or the file gives one', () => {
    const y = new YearTracker(undefined);
    expect(y.resolve(5)).toBeUndefined();
    y.observe(2018, 10);
    expect(y.resolve(11)).toBe(2018);
    expect(y.resolve(1)).toBe(2019);
  });
});

describe('epochDigitsMs: epochs by their length', () => {
  it.each([
    ['1557513467', 1557513467000],
    ['1557513467369', 1557513467369],
    ['1557513467369913', 1557513467369],
    ['1557513467369913239', 1557513467369],
  ])('%s', (digits, ms) => expect(epochDigitsMs(digits)).toBe(ms));
  it('refuses lengths that are not s, ms, µs or ns', () => {
    expect(epochDigitsMs('155751346736991')).toBeNull();
    expect(epochDigitsMs('12a')).toBeNull();
  });
});

describe('wallMs: no such date or time', () => {
  it.each([
    ['29 February in a leap year', [2024, 2, 29, 12, 0, 0], true],
    ['29 February otherwise', [2025, 2, 29, 12, 0, 0], false],
    ['29 February 1900 is not a leap day, 2000 is', [1900, 2, 29, 0, 0, 0], false],
    ['29 February 2000', [2000, 2, 29, 0, 0, 0], true],
    ['31 April', [2025, 4, 31, 0, 0, 0], false],
    ['24:00', [2025, 4, 30, 24, 0, 0], false],
    ['a leap second', [2016, 12, 31, 23, 59, 60], false],
    ['month 13', [2025, 13, 1, 0, 0, 0], false],
  ] as const)('%s', (_name, fields, ok) => {
    const r = wallMs(...(fields as unknown as [number, number, number, number, number, number]));
    expect(r !== null).toBe(ok);
    if (r !== null)
      expect(new Date(r).toISOString().slice(0, 10)).toBe(`${fields[0]}-${String(fields[1]).padStart(2, '0')}-${String(fields[2]).padStart(2, '0')}`);
  });
});

describe('YearTracker: the running year handed to the next file', () => {
  it('nothing to hand on before a year-less header is read', () => {
    expect(new YearTracker(2025).save()).toBeUndefined();
  });
  it('a December file hands on December; the next file reads January as the next year, whatever year it was given', () => {
    const dec = new YearTracker(2025);
    expect(dec.resolve(12)).toBe(2025);
    const saved = dec.save();
    expect(saved).toEqual({ year: 2025, month: 12 });
    const jan = new YearTracker(2025);
    jan.load(saved!);
    expect(jan.resolve(1)).toBe(2026);
    expect(jan.save()).toEqual({ year: 2026, month: 1 });
  });
});
