/**
 * Templates and options templates, kept per (exporter address, observation domain,
 * template id) as RFC 7011 §8 asks, compiled once into the operations a data record is
 * read with. Over UDP a template lives `timeoutMs` of export time after it was last sent
 * (refresh) and is replaced by a new definition; over TCP and in files it lives until
 * withdrawn (a field count of 0; template id 2 or 3 withdraws all of a domain's).
 */
import { elementOf, KIND, LENGTHS, type Kind, type Slot } from './elements.js';

/** How one field of a data record is read: into `slot`, or skipped when `slot` is null. */
export interface FieldOp {
  readonly id: number;
  readonly pen: number;
  /** 65535: variable length (RFC 7011 §7). */
  readonly length: number;
  readonly slot: Slot | null;
  readonly kind: Kind;
}

export interface Template {
  readonly id: number;
  readonly options: boolean;
  readonly ops: readonly FieldOp[];
  /** Octets of the shortest record (variable fields count their length octet). */
  readonly minLength: number;
  readonly variable: boolean;
  /** The definition as text, to tell a refresh from a redefinition. */
  readonly signature: string;
  /** Export time (ms) it was last sent. */
  refreshedMs: number;
}

/** A field specifier as read from a template record. */
export interface FieldSpec {
  readonly id: number;
  readonly pen: number;
  readonly length: number;
}

/** A field whose length its element cannot have: read as skipped, and said so. */
export interface LengthMismatch {
  readonly field: FieldSpec;
  readonly name: string;
}

/**
 * Compile a template. Fields of the table with a length their kind cannot have are
 * skipped (and returned, to be reported), never read wrongly.
 */
export function compileTemplate(
  id: number,
  options: boolean,
  fields: readonly FieldSpec[],
  refreshedMs: number,
): { template: Template; mismatches: LengthMismatch[] } {
  const ops: FieldOp[] = [];
  const mismatches: LengthMismatch[] = [];
  let minLength = 0;
  let variable = false;
  for (const f of fields) {
    const element = elementOf(f.id, f.pen);
    let slot: Slot | null = null;
    let kind: Kind = KIND.unsigned;
    if (element !== undefined) {
      const allowed = LENGTHS[element.kind];
      if (f.length === 65535 ? element.kind === KIND.string : allowed === null || allowed.includes(f.length)) {
        slot = element.slot;
        kind = element.kind;
      } else {
        mismatches.push({ field: f, name: element.name });
      }
    }
    if (f.length === 65535) {
      variable = true;
      minLength += 1;
    } else {
      minLength += f.length;
    }
    ops.push({ id: f.id, pen: f.pen, length: f.length, slot, kind });
  }
  const signature = (options ? 'o' : 't') + fields.map((f) => `${f.pen}/${f.id}/${f.length}`).join(',');
  return { template: { id, options, ops, minLength, variable, signature, refreshedMs }, mismatches };
}

/** The templates of every exporter and domain. */
export class TemplateCache {
  private readonly byKey = new Map<string, Template>();

  static key(exporter: string, domain: number, id: number): string {
    return exporter + '|' + domain + '|' + id;
  }

  get(exporter: string, domain: number, id: number): Template | undefined {
    return this.byKey.get(TemplateCache.key(exporter, domain, id));
  }

  /** Store or refresh; returns what it replaced (undefined, the same definition, or another). */
  set(exporter: string, domain: number, template: Template): 'new' | 'refresh' | 'redefined' {
    const key = TemplateCache.key(exporter, domain, template.id);
    const before = this.byKey.get(key);
    this.byKey.set(key, template);
    if (before === undefined) return 'new';
    return before.signature === template.signature ? 'refresh' : 'redefined';
  }

  /** Withdraw one template; true when it was known. */
  withdraw(exporter: string, domain: number, id: number): boolean {
    return this.byKey.delete(TemplateCache.key(exporter, domain, id));
  }

  /** Withdraw every template (or options template) of a domain; returns how many. */
  withdrawAll(exporter: string, domain: number, options: boolean | null): number {
    const prefix = exporter + '|' + domain + '|';
    let n = 0;
    for (const [key, t] of this.byKey) {
      if (key.startsWith(prefix) && (options === null || t.options === options)) {
        this.byKey.delete(key);
        n++;
      }
    }
    return n;
  }

  /** Forget every template of an exporter (its transport session ended); returns how many. */
  withdrawExporter(exporter: string): number {
    const prefix = exporter + '|';
    let n = 0;
    for (const key of [...this.byKey.keys()]) {
      if (key.startsWith(prefix)) {
        this.byKey.delete(key);
        n++;
      }
    }
    return n;
  }

  get size(): number {
    return this.byKey.size;
  }
}
