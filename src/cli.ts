#!/usr/bin/env node
/**
 * The `ipar` command line: a thin shell over functions that return or throw (STYLE.md
 * item 10). Exit codes: 0 success, 1 some input rejected or invalid, 2 usage or I/O error
 * (one line on stderr, no stack trace).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runAuditShow, runAuditVerify } from './cli/audit.js';
import { runDemo } from './cli/demo.js';
import { runIngest } from './cli/ingest.js';
import { runPurge } from './cli/purge.js';
import { runResolve } from './cli/resolve.js';
import { runSettings } from './cli/settings.js';
import { processIo, type Io } from './cli/io.js';
import { IparError } from './problems.js';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    return n;
  };
}

function build(io: Io, setCode: (code: number) => void): Command {
  const program = new Command('ipar')
    .description('IP address resolution engine: who was using this IP address (and port) at this time?')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run ipar --help for usage)');

  program
    .command('ingest')
    .description('store canonical NDJSON records (or vendor logs with --format) in a store')
    .requiredOption('--db <file>', 'the SQLite store (created if missing)')
    .option('--rejects <file>', 'write each rejected line, with its problems, as NDJSON')
    .addOption(new Option('--format <name>', 'input format').default('canonical'))
    .option('--tz <zone>', 'IANA zone of device clocks, for vendor lines without an offset')
    .option('--year <year>', 'year for vendor headers without one', integer('--year', 1970, 9999))
    .option('--realm <realm>', 'CGNAT realm for vendor NAT logs')
    .option('--json', 'also print the summary as JSON on stdout', false)
    .argument('<files...>', 'input files; - for stdin')
    .action(async (files: string[], opts: { db: string; rejects?: string; format: string; tz?: string; year?: number; realm?: string; json: boolean }) => {
      const { VENDOR_PARSERS } = await import('./ingest/vendors/index.js');
      let format: 'canonical' | 'auto' | (typeof VENDOR_PARSERS)[number] = 'canonical';
      if (opts.format === 'auto') format = 'auto';
      else if (opts.format !== 'canonical') {
        const parser = VENDOR_PARSERS.find((p) => p.name === opts.format);
        if (parser === undefined) {
          throw new IparError('USAGE', `--format ${JSON.stringify(opts.format)} is not known; use canonical, auto, or one of: ${VENDOR_PARSERS.map((p) => p.name).join(', ')}`);
        }
        format = parser;
      }
      const vendorOptions = {
        ...(opts.tz === undefined ? {} : { timeZone: opts.tz }),
        ...(opts.year === undefined ? {} : { year: opts.year }),
        ...(opts.realm === undefined ? {} : { realm: opts.realm }),
      };
      setCode(
        await runIngest(
          { db: opts.db, files, format, parsers: VENDOR_PARSERS, vendorOptions, json: opts.json, ...(opts.rejects === undefined ? {} : { rejects: opts.rejects }) },
          io,
        ),
      );
    });

  program
    .command('resolve')
    .description('resolve NDJSON requests to NDJSON results (one per request, in order)')
    .requiredOption('--db <file>', 'the SQLite store (opened read-only)')
    .option('--audit <file>', 'audit database (default: the store itself, which must then be writable)')
    .option('--pretty', 'print a table for people instead of NDJSON', false)
    .argument('[file]', 'requests file; - or nothing for stdin', '-')
    .action(async (file: string, opts: { db: string; audit?: string; pretty: boolean }) => {
      setCode(await runResolve({ db: opts.db, file, pretty: opts.pretty, ...(opts.audit === undefined ? {} : { audit: opts.audit }) }, io));
    });

  program
    .command('estimate')
    .description('how many customers each request would return (per observation and combined), with the flags; no identities')
    .requiredOption('--db <file>', 'the SQLite store (opened read-only)')
    .option('--audit <file>', 'audit database (default: the store itself, which must then be writable)')
    .option('--pretty', 'print a table for people instead of NDJSON', false)
    .argument('[file]', 'requests file; - or nothing for stdin', '-')
    .action(async (file: string, opts: { db: string; audit?: string; pretty: boolean }) => {
      setCode(await runResolve({ db: opts.db, file, pretty: opts.pretty, estimate: true, ...(opts.audit === undefined ? {} : { audit: opts.audit }) }, io));
    });

  program
    .command('settings')
    .description('show or set the store settings risk analysis uses; prints them as JSON')
    .requiredOption('--db <file>', 'the SQLite store')
    .option('--retention-horizon <instant>', 'records before this instant were purged (flags BEYOND_RETENTION)')
    .option('--clock-error <source=seconds>', "a source's declared clock error (flags TOLERANCE_BELOW_CLOCK_ERROR); SOURCE= removes it; repeatable", (v: string, all: string[]) => [...all, v], [] as string[])
    .action(async (opts: { db: string; retentionHorizon?: string; clockError: string[] }) => {
      setCode(await runSettings({ db: opts.db, clockErrors: opts.clockError, ...(opts.retentionHorizon === undefined ? {} : { retentionHorizon: opts.retentionHorizon }) }, io));
    });

  const audit = program.command('audit').description('check and read the audit log (every resolution, estimate, refusal and purge)');
  audit
    .command('verify')
    .description('check the hash chain: exit 0 intact, 1 naming the first entry changed, removed or reordered')
    .requiredOption('--db <file>', 'the store, or the separate audit database')
    .option('--head <hash>', 'a head hash recorded earlier that must still be in the log')
    .action(async (opts: { db: string; head?: string }) => setCode(await runAuditVerify(opts, io)));
  audit
    .command('show')
    .description("print a request's entries as NDJSON (exit 1 when there are none)")
    .requiredOption('--db <file>', 'the store, or the separate audit database')
    .option('--ref <ref>', 'the request ref')
    .addOption(new Option('--action <action>', 'only entries of this action').choices(['resolve', 'estimate', 'purge']))
    .action(async (opts: { db: string; ref?: string; action?: 'resolve' | 'estimate' | 'purge' }) => {
      if (opts.ref === undefined && opts.action === undefined) throw new IparError('USAGE', 'audit show needs --ref REF or --action ACTION');
      setCode(await runAuditShow(opts, io));
    });

  program
    .command('purge')
    .description('delete records that ended before an instant, set the retention horizon, and audit it')
    .requiredOption('--db <file>', 'the SQLite store')
    .requiredOption('--before <instant>', 'records whose interval ended at or before this ISO instant are deleted')
    .option('--audit <file>', 'audit database (default: the store itself)')
    .action(async (opts: { db: string; before: string; audit?: string }) => setCode(await runPurge(opts, io)));

  program
    .command('demo')
    .description('the main job on the embedded demo operator (what npm start runs)')
    .option('--db <file>', 'where to build the demo store', '.ipar/demo.db')
    .action(async (opts: { db: string }) => setCode(await runDemo(opts, io)));

  return program;
}

/**
 * Run the CLI with `argv` (without node and script) and return the exit code.
 *
 * @example
 * process.exitCode = await main(['ingest', '--db', 'op.db', 'records.ndjson']);
 */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let code = 0;
  const program = build(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof IparError) {
      io.stderr.write(`ipar: ${error.message}\n`);
      return 2;
    }
    io.stderr.write(`ipar: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return 3;
  }
}

const invoked = process.argv[1] === undefined ? '' : realpathSync(process.argv[1]);
if (invoked === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
