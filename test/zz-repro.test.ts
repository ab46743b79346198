import { test } from 'vitest';
import { parseAddress } from '../src/address.js';
test('x', () => { for (const t of ['fe80::1%eth0', 'fe80::1%25eth0', '2001:db8::1%1', '198.51.100.1%eth0']) console.log(t, JSON.stringify(parseAddress(t))); });
