import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../src/paths.js';
import { ELEMENTS } from '../../src/ingest/ipfix/elements.js';
import { PROFILES } from '../../src/ingest/ipfix/profiles.js';
import { FLOW_REASONS } from '../../src/ingest/ipfix/decoder.js';
import { EVENT_REASONS } from '../../src/ingest/ipfix/session.js';

describe('docs/importers.md documents IPFIX and NetFlow v9 NAT logging', () => {
  const text = readFileSync(packagePath('docs', 'importers.md'), 'utf8');
  const readme = readFileSync(packagePath('README.md'), 'utf8');
  it('has a row for every element the table reads, with its id and enterprise', () => {
    for (const e of ELEMENTS) expect(text, e.name).toMatch(new RegExp(`\\| ${e.id} \\| ${e.pen} \\| \`${e.name}\` \\|`));
  });
  it('has a row for every profile, also named in the README', () => {
    for (const p of PROFILES) {
      expect(text, p.name).toContain(`| \`${p.name}\` |`);
      expect(readme, p.name).toContain(`\`${p.name}\``);
    }
  });
  it('explains every reason the decoder and the event layer report', () => {
    for (const r of [
      ...Object.values(FLOW_REASONS),
      ...Object.values(EVENT_REASONS),
      'FILE_TRUNCATED',
      'PCAP_TRUNCATED',
      'PCAP_NOT_UDP',
      'PCAP_FRAGMENT',
      'PCAP_LINKTYPE',
    ])
      expect(text, r).toContain(`\`${r}\``);
  });
});
