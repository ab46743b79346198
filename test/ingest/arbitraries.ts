/**
 * Canonical record inputs for the ingest property tests: well-formed records of the bulk
 * kinds in the shapes exporters write, records whose fields sit just past the schema's
 * edges, well-formed records with one thing changed, and junk.
 */
import fc from 'fast-check';
import { PROTOCOLS } from '../../src/records.js';

const two = (n: number): string => String(n).padStart(2, '0');

/** Instants in the form exporters write: `Z` or `±HH:MM`, with or without a fraction. */
const commonInstant = fc
  .record({
    year: fc.integer({ min: 1970, max: 2099 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 31 }),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
    second: fc.integer({ min: 0, max: 59 }),
    fraction: fc.option(fc.stringMatching(/^\d{1,9}$/), { nil: undefined }),
    zone: fc.oneof(
      fc.constant('Z'),
      fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 18 }), fc.integer({ min: 0, max: 59 })).map(([s, h, m]) => `${s}${two(h)}:${two(m)}`),
    ),
  })
  .map(({ year, month, day, hour, minute, second, fraction, zone }) => {
    // Clamp the day to the month so every instant generated here is a real one.
    const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
    return `${year}-${two(month)}-${two(Math.min(day, last))}T${two(hour)}:${two(minute)}:${two(second)}${fraction === undefined ? '' : '.' + fraction}${zone}`;
  });

/** Instants at and past the edges of every field (month 0 and 13, hour 24, offset +19:00, ten fraction digits…). */
const nearInstant = fc
  .record({
    year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 50, 99, 100, 1970)),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 24 }),
    minute: fc.integer({ min: 0, max: 60 }),
    second: fc.integer({ min: 0, max: 60 }),
    fraction: fc.option(fc.stringMatching(/^\d{0,10}$/), { nil: undefined }),
    zone: fc.oneof(
      fc.constantFrom('Z', 'z', '', '+01', '+0100', '-00:00'),
      fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 19 }), fc.integer({ min: 0, max: 60 })).map(([s, h, m]) => `${s}${two(h)}:${two(m)}`),
    ),
    separator: fc.constantFrom('T', 'T', 'T', ' ', 't'),
  })
  .map(
    ({ year, month, day, hour, minute, second, fraction, zone, separator }) =>
      `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}${separator}${two(hour)}:${two(minute)}:${two(second)}${fraction === undefined ? '' : '.' + fraction}${zone}`,
  );

/** Any instant text, valid or not: the common form, other forms parseInstant reads, and near misses. */
const anyInstant = fc.oneof(
  commonInstant,
  nearInstant,
  nearInstant,
  fc.constantFrom(
    '2026-02-29T10:00:00Z',
    '2024-02-29T10:00:00Z',
    '2026-02-30T10:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-03-28 10:00:00Z',
    '2026-03-28T10:00Z',
    '2026-03-28T10:00:00z',
    '2026-03-28T10:00:00+0100',
    '2026-03-28T10:00:00+01',
    '2026-03-28T10:00:00,5Z',
    '2026-03-28T10:00:00.Z',
    '2026-03-28T10:00:00.1234567890Z',
    '2026-03-28T10:00:00',
    '2026-03-28T24:00:00Z',
    '2026-03-28T10:60:00Z',
    '2026-03-28T10:00:60Z',
    '2026-13-01T00:00:00Z',
    '2026-00-10T00:00:00Z',
    '2026-03-00T00:00:00Z',
    '2026-03-28T10:00:00+19:00',
    '2026-03-28T10:00:00+01:60',
    '0050-03-01T00:00:00Z',
    '2026-03-28T10:00:00-00:00',
    '2026-03-28T1a:00:00Z',
    '２０２６-03-28T10:00:00Z',
    '',
  ),
  fc.string({ maxLength: 40 }),
);

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
const v6 = fc.ipV6();
const anAddress = fc.oneof(v4, v4, v6);
const aPrefix = fc.oneof(
  anAddress,
  fc.tuple(fc.nat(255), fc.nat(255), fc.integer({ min: 16, max: 32 })).map(([a, b, l]) => `198.${a}.${b}.0/${l}`),
  fc.constantFrom('2001:db8:12:3400::/56', '2001:db8::/32', '203.0.113.0/24', '203.0.113.7/24', '2001:db8::1/64', '10.0.0.0/33', '::/0'),
);
const realm = fc.oneof(fc.constantFrom('cgn-a', 'b4', 'R.1:x_y'), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/));
const aName = fc.oneof(fc.constantFrom('ACC-000001', 'dhcp', 'radius'), fc.string({ minLength: 1, maxLength: 128 }));
const port = fc.integer({ min: 0, max: 65535 });
const mac = fc.oneof(
  fc.stringMatching(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/),
  fc
    .tuple(fc.array(fc.stringMatching(/^[0-9A-Fa-f]{2}$/), { minLength: 6, maxLength: 6 }), fc.constantFrom('', '-', ':'))
    .map(([octets, sep]) => octets.join(sep)),
  fc.stringMatching(/^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/),
);

/** [start, end] with end null or not before start. */
const interval = fc.tuple(commonInstant, fc.option(commonInstant, { nil: null })).map(([a, b]) => {
  if (b === null) return { start: a, end: null };
  return Date.parse(a) <= Date.parse(b) ? { start: a, end: b } : { start: b, end: a };
});

const opt = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq: 2 });
/** Drop the keys whose value is undefined (JSON has no undefined). */
const present = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** Well-formed records of the three bulk kinds, in the shapes exporters write. */
export const commonRecord: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc
    .record({
      account: aName,
      ip: aPrefix,
      interval,
      source: aName,
      realm: opt(realm),
      imsi: opt(fc.stringMatching(/^\d{6,15}$/)),
      msisdn: opt(fc.stringMatching(/^\+?\d{5,15}$/)),
      imei: opt(fc.stringMatching(/^\d{14,16}$/)),
      mac: opt(mac),
      sessionId: opt(aName),
      endInferred: opt(fc.boolean()),
    })
    .map(({ interval: i, ...r }) => present({ kind: 'allocation', ...r, ...i })),
  fc
    .record({
      realm,
      insideIp: anAddress,
      outsideIp: anAddress,
      ports: fc.tuple(port, port),
      protocol: opt(fc.constantFrom(...PROTOCOLS)),
      interval,
      endInferred: opt(fc.boolean()),
    })
    .map(({ ports: [a, b], interval: i, ...r }) => present({ kind: 'nat-block', ...r, portFirst: Math.min(a, b), portLast: Math.max(a, b), ...i })),
  fc
    .record({
      realm,
      insideIp: anAddress,
      insidePort: port,
      outsideIp: anAddress,
      outsidePort: port,
      destinationIp: opt(anAddress),
      destinationPort: opt(port),
      protocol: fc.constantFrom(...PROTOCOLS),
      interval,
      endInferred: opt(fc.boolean()),
    })
    .map(({ interval: i, ...r }) => present({ kind: 'nat-session', ...r, ...i })),
);

/** Ports at and past the edges, and numbers that are not ports. */
const nearPort = fc.oneof(port, fc.integer({ min: -2, max: 3 }), fc.integer({ min: 65533, max: 65537 }), fc.constantFrom(-0, 0.5, 1e21, NaN));

/** Records of the bulk kinds whose every field may sit just past what the schema allows. */
export const nearRecord: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc
    .record({
      account: aName,
      ip: aPrefix,
      start: anyInstant,
      end: fc.oneof(anyInstant, fc.constant(null)),
      source: aName,
      realm: opt(realm),
      mac: opt(fc.oneof(mac, fc.string({ maxLength: 17 }))),
    })
    .map((r) => present({ kind: 'allocation', ...r })),
  fc
    .record({
      realm,
      insideIp: anAddress,
      outsideIp: anAddress,
      portFirst: nearPort,
      portLast: nearPort,
      start: anyInstant,
      end: fc.oneof(anyInstant, fc.constant(null)),
    })
    .map((r) => ({ kind: 'nat-block', ...r })),
  fc
    .record({
      realm,
      insideIp: anAddress,
      insidePort: nearPort,
      outsideIp: anAddress,
      outsidePort: nearPort,
      destinationPort: opt(nearPort),
      protocol: fc.constantFrom(...PROTOCOLS),
      start: anyInstant,
      end: fc.oneof(anyInstant, fc.constant(null)),
    })
    .map((r) => present({ kind: 'nat-session', ...r })),
);

const junkValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  anInstantOrAddress(),
  fc.constantFrom(
    undefined,
    null,
    -0,
    0.5,
    -1,
    65536,
    1e21,
    NaN,
    Infinity,
    '',
    ' ',
    'a'.repeat(129),
    '\u{1F600}'.repeat(65),
    '\u{1F600}'.repeat(64),
    '\uD800',
    true,
    false,
    [],
    {},
  ),
);

function anInstantOrAddress(): fc.Arbitrary<string> {
  return fc.oneof(
    anyInstant,
    aPrefix,
    fc.constantFrom(
      '198.51.100.300',
      '100.64.0.0/24',
      '2001:db8::/129',
      ' 198.51.100.7',
      'tcp',
      'TCP',
      '+447700900001',
      '02-00-5E-10-00-01',
      '02:00:5e:10:00:0g',
    ),
  );
}

/** A well-formed record with one thing changed: a value replaced, a key dropped, a key added. */
export const mutated: fc.Arbitrary<unknown> = fc
  .tuple(commonRecord, fc.nat(), junkValue, fc.constantFrom('replace', 'drop', 'add', 'undefined', 'instant'), fc.string({ maxLength: 12 }))
  .map(([record, i, value, how, key]) => {
    const keys = Object.keys(record);
    const at = keys[i % keys.length]!;
    const out: Record<string, unknown> = { ...record };
    if (how === 'replace') out[at] = value;
    else if (how === 'drop') delete out[at];
    else if (how === 'add') out[keys.includes(key) ? key + '_' : key === '' ? 'extra' : key] = value;
    else if (how === 'undefined') out[at] = undefined;
    else out[i % 2 === 0 ? 'start' : 'end'] = typeof value === 'string' ? value : '2026-03-28T10:00:00Z';
    return out;
  });

export const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything(),
  fc
    .dictionary(
      fc.constantFrom('kind', 'account', 'ip', 'start', 'end', 'source', 'realm', 'insideIp', 'outsideIp', 'portFirst', 'portLast', 'protocol'),
      junkValue,
    )
    .map((o) => ({ kind: 'allocation', ...o })),
  fc.record({ kind: fc.constantFrom('allocation', 'nat-block', 'nat-session', 'coverage', 'subscriber', 'Allocation') }, { requiredKeys: [] }),
);
