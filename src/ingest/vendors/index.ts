/** The vendor importers `ipar ingest --format` chooses among. */
import type { VendorParser } from './types.js';

export const VENDOR_PARSERS: readonly VendorParser[] = [];
