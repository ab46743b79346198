#!/usr/bin/env -S node --max-semi-space-size=32
// A young generation of 32 MiB semi-spaces (V8 defaults to 16): the matcher and the ingest
// make many short-lived objects; measured 40 % more requests a second (bench/RESULTS.md).
/**
 * The `ipar` command line: a thin shell over functions that return or throw (STYLE.md
 * item 10). Exit codes: 0 success, 1 some input rejected or invalid, 2 usage or I/O error
 * (one line on stderr, no stack trace).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runAuditCheckResult, runAuditHead, runAuditKeygen, runAuditShow, runAuditVerify } from './cli/audit.js';
import { runBackup } from './cli/backup.js';
import { runConvert } from './cli/convert.js';
import { runDemo } from './cli/demo.js';
import { runExport } from './cli/export.js';
import { runIngest } from './cli/ingest.js';
import { runPurge } from './cli/purge.js';
import { runResolve } from './cli/resolve.js';
import { runSettings } from './cli/settings.js';
import { runSimulate } from './cli/simulate.js';
import { defaultWorkers, MAX_DEFAULT_WORKERS } from './cli/workers.js';
import { PROFILE_NAMES } from '../nat/simulate.js';
import { outputFailed, processIo, type Io } from './cli/io.js';
import { ERRORS } from './catalogue/errors.js';
import { IparError } from './problems.js';
import { redactCredentials } from './store/clickhouse/url.js';
import { ENGINE } from './audit/audited.js';
import { VENDOR_PARSERS } from './ingest/vendors/index.js';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    return n;
  };
}

interface IngestOptions {
  db?: string;
  store?: string;
  rejects?: string;
  format: string;
  tz?: string;
  year?: number;
  realm?: string;
  missingStopTimeout?: number;
  zoneAbbreviation: string[];
  interimInterval?: number;
  reorderWindow?: number;
  json: boolean;
  batchSize?: number;
  profile?: string;
}

/** A format's description cut to its first clause, for the list under `ingest --help`. */
function shortDescription(description: string): string {
  const first = description.split(/: |\. /)[0]!;
  return first.length > 76 ? first.slice(0, 75) + '…' : first;
}

const STORE_HELP = 'a store URL instead of --db: clickhouse://host:port[,host:port…]/database[?cluster=NAME] (or a SQLite file)';

/** The store a command uses: `--db FILE` or `--store URL`, not both. */
function storeSpec(opts: { db?: string; store?: string }, required: true): string;
function storeSpec(opts: { db?: string; store?: string }, required: false): string | undefined;
function storeSpec(opts: { db?: string; store?: string }, required: boolean): string | undefined {
  if (opts.db !== undefined && opts.store !== undefined) throw new IparError('USAGE', 'give --db FILE or --store URL, not both');
  const spec = opts.store ?? opts.db;
  if (spec === undefined && required) throw new IparError('USAGE', "required option '--db <file>' (SQLite) or '--store <url>' (clickhouse://…) not specified");
  return spec;
}

/** The import flags ingest and convert share. */
type ImportFlags = Pick<IngestOptions, 'format' | 'tz' | 'year' | 'realm' | 'missingStopTimeout' | 'zoneAbbreviation' | 'interimInterval' | 'reorderWindow'>;

/** The format and importer options the import flags name. */
async function importSetup(opts: ImportFlags) {
  const { VENDOR_PARSERS } = await import('./ingest/vendors/index.js');
  let format: 'canonical' | 'auto' | (typeof VENDOR_PARSERS)[number] = 'canonical';
  if (opts.format === 'auto') format = 'auto';
  else if (opts.format !== 'canonical') {
    const parser = VENDOR_PARSERS.find((p) => p.name === opts.format);
    if (parser === undefined) {
      throw new IparError(
        'USAGE',
        `--format ${JSON.stringify(opts.format)} is not known; use canonical, auto, or one of: ${VENDOR_PARSERS.map((p) => p.name).join(', ')}`,
      );
    }
    format = parser;
  }
  const abbreviations: Record<string, string> = {};
  for (const spec of opts.zoneAbbreviation) {
    const m = /^([A-Za-z]{1,6})=([+-]\d{2}:\d{2})$/.exec(spec);
    if (m === null) throw new IparError('USAGE', `--zone-abbreviation takes ABBR=±HH:MM, got ${JSON.stringify(spec)}`);
    abbreviations[m[1]!.toUpperCase()] = m[2]!;
  }
  const vendorOptions = {
    ...(opts.tz === undefined ? {} : { timeZone: opts.tz }),
    ...(opts.year === undefined ? {} : { year: opts.year }),
    ...(opts.realm === undefined ? {} : { realm: opts.realm }),
    ...(opts.missingStopTimeout === undefined ? {} : { missingStopTimeoutSeconds: opts.missingStopTimeout }),
    ...(opts.zoneAbbreviation.length === 0 ? {} : { zoneAbbreviations: abbreviations }),
    ...(opts.interimInterval === undefined ? {} : { interimIntervalSeconds: opts.interimInterval }),
    ...(opts.reorderWindow === undefined ? {} : { reorderWindowSeconds: opts.reorderWindow }),
  };
  return { format, parsers: VENDOR_PARSERS, vendorOptions };
}

function build(io: Io, setCode: (code: number) => void): Command {
  const program = new Command('ipar')
    .description('IP address resolution engine: who was using this IP address (and port) at this time?')
    .version(ENGINE, '-V, --version', 'print the version (as every audit entry names it)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // A usage error is one line, as every other error (commander adds "Did you mean" lines).
      outputError: (s, write) => write(`${s.trim().replace(/\s*\n\s*/g, ' ')} (run ipar --help for usage)\n`),
    });

  /** The options of every command that reads vendor logs (ingest, convert). */
  const importOptions = (command: Command): Command =>
    command
      .addOption(new Option('--format <name>', 'input format').default('canonical'))
      .option('--tz <zone>', 'IANA zone of device clocks, for vendor lines without an offset')
      .option('--year <year>', 'year for vendor headers without one', integer('--year', 1970, 9999))
      .option('--realm <realm>', 'CGNAT realm for vendor NAT logs')
      .option(
        '--missing-stop-timeout <seconds>',
        'close a vendor session with no stop this long after its last evidence',
        integer('--missing-stop-timeout', 1, 31_536_000),
      )
      .option(
        '--zone-abbreviation <abbr=offset>',
        'read a zone abbreviation as this offset, e.g. PST=+08:00; repeatable',
        (v: string, all: string[]) => [...all, v],
        [] as string[],
      )
      .option('--interim-interval <seconds>', 'RADIUS interim cadence when records do not carry it', integer('--interim-interval', 1, 86_400))
      .option('--reorder-window <seconds>', 'how long out-of-order vendor stops may trail their start', integer('--reorder-window', 0, 86_400));

  importOptions(
    program
      .command('ingest')
      .description('store canonical NDJSON records (or vendor logs with --format) in a store')
      .option('--db <file>', 'the SQLite store (created if missing)')
      .option('--store <url>', STORE_HELP)
      .option('--rejects <file>', 'write each rejected line, with its problems, as NDJSON'),
  )
    .option('--json', 'also print the summary as JSON on stdout', false)
    .option('--batch-size <records>', 'records per transaction (default 100000)', integer('--batch-size', 1, 10_000_000))
    .option('--profile <name>', 'exporter event numbering for --format ipfix|netflow9 (iana, juniper-ipfix, juniper-v9, cisco-nel, nokia-lsn, vpp)')
    .argument('<files...>', 'input files; - for stdin')
    .addHelpText(
      'after',
      () =>
        `\nFormats (--format NAME; docs/importers.md has the rules of each):\n  canonical           canonical NDJSON records, one a line (the default)\n  auto                the importer chosen from each file's first lines\n  ipfix               IPFIX NAT event logging (RFC 7011 / 8158): a file of messages or a pcap; needs --profile and --realm\n  netflow9            NetFlow v9 NAT event logging (RFC 3954): a pcap; needs --profile and --realm\n${VENDOR_PARSERS.map((p) => `  ${p.name.padEnd(19)} ${shortDescription(p.description)}`).join('\n')}\n`,
    )
    .action(async (files: string[], opts: IngestOptions) => {
      const flow = await import('./cli/collect.js');
      if (flow.isFlowFormat(opts.format)) {
        const vendorOptions = {
          ...(opts.realm === undefined ? {} : { realm: opts.realm }),
          ...(opts.missingStopTimeout === undefined ? {} : { missingStopTimeoutSeconds: opts.missingStopTimeout }),
          ...(opts.reorderWindow === undefined ? {} : { reorderWindowSeconds: opts.reorderWindow }),
        };
        const { batchSize } = opts;
        setCode(
          await flow.runFlowIngest(
            {
              db: storeSpec(opts, true),
              files,
              format: opts.format,
              profile: flow.flowProfile(opts.profile),
              vendorOptions,
              json: opts.json,
              ...(batchSize === undefined ? {} : { batchSize }),
            },
            io,
          ),
        );
        return;
      }
      const { format, parsers, vendorOptions } = await importSetup(opts);
      setCode(
        await runIngest(
          {
            db: storeSpec(opts, true),
            files,
            format,
            parsers,
            vendorOptions,
            json: opts.json,
            ...(opts.rejects === undefined ? {} : { rejects: opts.rejects }),
            ...(opts.batchSize === undefined ? {} : { batchSize: opts.batchSize }),
          },
          io,
        ),
      );
    });

  program
    .command('collect')
    .description('receive NAT events over IPFIX (UDP and TCP) or NetFlow v9 (UDP) and store them until SIGTERM or SIGINT')
    .addOption(new Option('--format <name>', 'ipfix or netflow9').choices(['ipfix', 'netflow9']).makeOptionMandatory())
    .requiredOption('--listen <host:port>', 'where to listen (loopback or an interface address; port 0 picks one)')
    .option('--db <file>', 'the SQLite store (created if missing)')
    .option('--store <url>', STORE_HELP)
    .requiredOption('--profile <name>', 'exporter event numbering: iana, juniper-ipfix, juniper-v9, cisco-nel, nokia-lsn, vpp')
    .requiredOption('--realm <realm>', 'CGNAT realm the events belong to')
    .option('--no-tcp', 'IPFIX: do not accept TCP on the same port')
    .option('--recv-buffer <bytes>', 'UDP receive buffer asked of the kernel (default 8388608)', integer('--recv-buffer', 65_536, 1 << 30))
    .option('--flush-interval <ms>', 'write batched records at least this often (default 1000)', integer('--flush-interval', 10, 3_600_000))
    .option('--batch-size <records>', 'records per write at most (default 20000)', integer('--batch-size', 1, 10_000_000))
    .option('--template-timeout <seconds>', 'UDP template lifetime after its last refresh (default 1800)', integer('--template-timeout', 1, 86_400))
    .option(
      '--missing-stop-timeout <seconds>',
      'close a session or block whose delete never came this long after it began',
      integer('--missing-stop-timeout', 1, 31_536_000),
    )
    .option('--reorder-window <seconds>', 'how long out-of-order deletes may trail their create (default 10)', integer('--reorder-window', 0, 86_400))
    .option('--json', 'print the summary as JSON on stdout at the end', false)
    .action(
      async (opts: {
        format: 'ipfix' | 'netflow9';
        listen: string;
        db?: string;
        store?: string;
        profile: string;
        realm: string;
        tcp: boolean;
        recvBuffer?: number;
        flushInterval?: number;
        batchSize?: number;
        templateTimeout?: number;
        missingStopTimeout?: number;
        reorderWindow?: number;
        json: boolean;
      }) => {
        const { runCollect, flowProfile } = await import('./cli/collect.js');
        setCode(
          await runCollect(
            {
              db: storeSpec(opts, true),
              listen: opts.listen,
              format: opts.format,
              profile: flowProfile(opts.profile),
              vendorOptions: {
                realm: opts.realm,
                ...(opts.missingStopTimeout === undefined ? {} : { missingStopTimeoutSeconds: opts.missingStopTimeout }),
                ...(opts.reorderWindow === undefined ? {} : { reorderWindowSeconds: opts.reorderWindow }),
              },
              json: opts.json,
              tcp: opts.tcp,
              ...(opts.recvBuffer === undefined ? {} : { recvBufferBytes: opts.recvBuffer }),
              ...(opts.flushInterval === undefined ? {} : { flushIntervalMs: opts.flushInterval }),
              ...(opts.batchSize === undefined ? {} : { batchSize: opts.batchSize }),
              ...(opts.templateTimeout === undefined ? {} : { templateTimeoutSeconds: opts.templateTimeout }),
            },
            io,
          ),
        );
      },
    );

  importOptions(
    program
      .command('convert')
      .description('print the canonical records an ingest of these lines would store (NDJSON on stdout, problems on stderr), without a store')
      .argument('<files...>', 'input files; - for stdin'),
  ).action(async (files: string[], opts: ImportFlags) => {
    const { format, parsers, vendorOptions } = await importSetup(opts);
    setCode(await runConvert({ files, format, parsers, vendorOptions }, io));
  });

  program
    .command('export')
    .description("a store's records as canonical NDJSON on stdout (ipar ingest reads them back, into any backend)")
    .option('--db <file>', 'the SQLite store (opened read-only)')
    .option('--store <url>', STORE_HELP)
    .option('--kind <kind>', 'only records of this kind; repeatable', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--from <instant>', 'only records whose interval overlaps [from, to): ISO instant with offset')
    .option('--to <instant>', 'see --from')
    .action(async (opts: { db?: string; store?: string; kind: string[]; from?: string; to?: string }) =>
      setCode(
        await runExport(
          {
            db: storeSpec(opts, true),
            kinds: opts.kind,
            ...(opts.from === undefined ? {} : { from: opts.from }),
            ...(opts.to === undefined ? {} : { to: opts.to }),
          },
          io,
        ),
      ),
    );

  const batchCommands = [
    ['resolve', 'resolve NDJSON requests to NDJSON results (one per request, in order)', false],
    ['estimate', 'how many customers each request would return (per observation and combined), with the flags; no identities', true],
  ] as const;
  for (const [name, description, estimate] of batchCommands) {
    program
      .command(name)
      .description(description)
      .option('--db <file>', 'the SQLite store (opened read-only)')
      .option('--store <url>', STORE_HELP)
      .option('--audit <file>', 'audit database (default: the store itself, which must then be writable; required for a ClickHouse store)')
      .option('--pretty', 'print a table for people instead of NDJSON', false)
      .option(
        '--workers <n>',
        `worker threads resolving batches, each with its own read-only store connection; 1 resolves in this thread (default: one per core, at most ${MAX_DEFAULT_WORKERS})`,
        integer('--workers', 1, 64),
      )
      .option('--audit-key <file>', "sign every audit entry with this Ed25519 private key (ipar audit keygen); default: the store's auditKey setting")
      .option('--sign-results', 'append to each result line its audit entry: {"audit":{"seq","hash","signature"}} (needs a key)', false)
      .option('--report <dir>', 'also write the report folder for the batch (as ipar report does; resolves in this thread)')
      .argument('[file]', 'requests file; - or nothing for stdin', '-')
      .action(
        async (
          file: string,
          opts: { db?: string; store?: string; audit?: string; pretty: boolean; workers?: number; auditKey?: string; signResults: boolean; report?: string },
        ) => {
          const cmd = {
            db: storeSpec(opts, true),
            file,
            pretty: opts.pretty,
            estimate,
            ...(opts.audit === undefined ? {} : { audit: opts.audit }),
            ...(opts.auditKey === undefined ? {} : { auditKey: opts.auditKey }),
            ...(opts.signResults ? { signResults: true } : {}),
          };
          if (opts.report !== undefined) {
            const { resolveWithReport } = await import('./cli/report.js');
            setCode(await resolveWithReport(cmd, opts.report, io));
            return;
          }
          setCode(await runResolve({ ...cmd, workers: opts.workers ?? defaultWorkers() }, io));
        },
      );
  }

  program
    .command('report')
    .description('one self-contained HTML page per result (the request as received, a timeline of the records, the flags, the audit entry) and an index')
    .option('--db <file>', 'the SQLite store the results were resolved against (opened read-only)')
    .option('--store <url>', STORE_HELP)
    .option('--requests <file>', 'the requests file the results answer (shown as received, checked against the audit)')
    .option('--audit <file>', 'audit database (default: the store itself, when it is a SQLite file)')
    .requiredOption('--out <dir>', 'folder for the pages and index.html')
    .option('--pdf', 'also print each page to PDF with headless Chromium', false)
    .argument('<results>', 'results (or estimates) NDJSON file; - for stdin')
    .action(async (results: string, opts: { db?: string; store?: string; requests?: string; audit?: string; out: string; pdf: boolean }) => {
      const { runReport } = await import('./cli/report.js');
      setCode(
        await runReport(
          {
            db: storeSpec(opts, true),
            results,
            out: opts.out,
            pdf: opts.pdf,
            ...(opts.requests === undefined ? {} : { requests: opts.requests }),
            ...(opts.audit === undefined ? {} : { audit: opts.audit }),
          },
          io,
        ),
      );
    });

  program
    .command('settings')
    .description('show or set the store settings risk analysis uses; prints them as JSON')
    .requiredOption('--db <file>', 'the SQLite store')
    .option('--retention-horizon <instant>', 'records before this instant were purged (flags BEYOND_RETENTION)')
    .option(
      '--clock-error <source=seconds>',
      "a source's declared clock error (flags TOLERANCE_BELOW_CLOCK_ERROR); SOURCE= removes it; repeatable",
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option(
      '--zone-change <source=instant>',
      'a source changed its time-zone format without notice at INSTANT: an hour either side becomes plausible for later times; SOURCE= removes it; repeatable',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option(
      '--jurisdiction-zone <zone>',
      'the IANA zone times are plausibly misread in (an hour either side of a written offset; default Europe/London); "" restores the default',
    )
    .option('--audit-key <file>', 'the private key resolve and estimate sign audit entries with when not given --audit-key; "" removes it')
    .option('--budget-window <seconds>', 'work budget: the longest observation window a request may have; "" restores the default (31 days)')
    .option('--budget-readings <n>', 'work budget: the most readings (observations × time readings) a request may evaluate; "" restores the default (512)')
    .option('--budget-rows <n>', 'work budget: the most candidate rows a request may read; "" restores the default (20000)')
    .option('--max-layer-window <seconds>', 'the longest window a service-users layer or a connection-records request may span (default 86400); "" removes it')
    .action(
      async (opts: {
        db: string;
        retentionHorizon?: string;
        clockError: string[];
        auditKey?: string;
        zoneChange: string[];
        jurisdictionZone?: string;
        budgetWindow?: string;
        budgetReadings?: string;
        budgetRows?: string;
        maxLayerWindow?: string;
      }) => {
        setCode(
          await runSettings(
            {
              db: opts.db,
              clockErrors: opts.clockError,
              zoneChanges: opts.zoneChange,
              ...(opts.retentionHorizon === undefined ? {} : { retentionHorizon: opts.retentionHorizon }),
              ...(opts.jurisdictionZone === undefined ? {} : { jurisdictionZone: opts.jurisdictionZone }),
              ...(opts.auditKey === undefined ? {} : { auditKey: opts.auditKey }),
              ...(opts.budgetWindow === undefined ? {} : { budgetWindow: opts.budgetWindow }),
              ...(opts.budgetReadings === undefined ? {} : { budgetReadings: opts.budgetReadings }),
              ...(opts.budgetRows === undefined ? {} : { budgetRows: opts.budgetRows }),
              ...(opts.maxLayerWindow === undefined ? {} : { maxLayerWindow: opts.maxLayerWindow }),
            },
            io,
          ),
        );
      },
    );

  // ---- accuracy (issue 6): the harness in src/harness, the command in src/cli/accuracy.ts ----
  program
    .command('accuracy')
    .description('score the engine against simulated operators with ground truth, scenario by scenario, beside a naive baseline')
    .option('--trials <n>', 'requests per scenario', integer('--trials', 1, 1_000_000), 1000)
    .option('--seed <s>', 'simulation seed (the report is the same for the same seed)', integer('--seed', 0, 2 ** 32 - 1), 1)
    .option(
      '--profile <name>',
      'simulated operator: fixed-dhcp, mobile-cgnat-blocks, mobile-cgnat-sessions, deterministic-nat, ipv6-delegated, public-wifi or mixed',
      'mixed',
    )
    .option('--scenarios <names>', 'only these scenarios, comma-separated (default: all)')
    .option('--json', 'print the report as JSON', false)
    .option(
      '--system-command <cmd>',
      'measure this resolver instead of ipar: run per world through the shell, records in the NDJSON file $IPAR_RECORDS names, requests on stdin, results on stdout (NDJSON)',
    )
    .action(async (opts: { trials: number; seed: number; profile: string; scenarios?: string; json: boolean; systemCommand?: string }) => {
      const { runAccuracy } = await import('./cli/accuracy.js');
      const { scenarios, ...rest } = opts;
      setCode(await runAccuracy({ ...rest, ...(scenarios === undefined ? {} : { scenarios: scenarios.split(',').map((s) => s.trim()) }) }, io));
    });

  program
    .command('simulate')
    .description('simulate an operator: records.ndjson, requests.ndjson and truth.ndjson (same seed, same bytes)')
    .addOption(new Option('--profile <name>', 'operator profile').choices([...PROFILE_NAMES]).default('mixed'))
    .option('--subscribers <n>', 'subscribers', integer('--subscribers', 1, 500_000), 1000)
    .option('--days <n>', 'days simulated', integer('--days', 1, 366), 1)
    .option('--seed <n>', 'random seed', integer('--seed', 0, 2 ** 31 - 1), 1)
    .option('--requests <n>', 'authority requests to draw (default: min(1000, subscribers))', integer('--requests', 0, 1_000_000))
    .requiredOption('--out <dir>', 'folder for the three NDJSON files')
    .option('--db <file>', 'also ingest the records into this store')
    .option('--store <url>', STORE_HELP)
    .option(
      '--connections',
      'also write connections.ndjson and visits.ndjson: a separate operator holding internet connection records, and the truth of who visited which service',
    )
    .action(
      async (opts: {
        profile: string;
        subscribers: number;
        days: number;
        seed: number;
        requests?: number;
        out: string;
        db?: string;
        store?: string;
        connections?: boolean;
      }) => {
        const { store, db, ...rest } = opts;
        const spec = storeSpec({ ...(db === undefined ? {} : { db }), ...(store === undefined ? {} : { store }) }, false);
        setCode(await runSimulate({ ...rest, ...(spec === undefined ? {} : { db: spec }) }, io));
      },
    );

  const audit = program.command('audit').description('check and read the audit log (every resolution, estimate, refusal and purge)');
  audit
    .command('verify')
    .description(
      'check the hash chain (and, with --public-key, every signature): exit 0 intact, 1 naming the first entry changed, removed, reordered, unreadable, unsigned or forged',
    )
    .requiredOption('--db <file>', 'the store, or the separate audit database')
    .option('--head <hash|file>', 'a head recorded earlier that must still be in the log: its hash, or a file holding the JSON of ipar audit head')
    .option('--public-key <file>', 'the audit public key (audit.pub): every entry must carry a valid signature')
    .action(async (opts: { db: string; head?: string; publicKey?: string }) => setCode(await runAuditVerify(opts, io)));
  audit
    .command('head')
    .description('print the last entry as {"seq","hash","signature"}, to keep elsewhere for verify --head (exit 1 on an empty log)')
    .requiredOption('--db <file>', 'the store, or the separate audit database')
    .action(async (opts: { db: string }) => setCode(await runAuditHead(opts, io)));
  audit
    .command('keygen')
    .description('make an Ed25519 key pair for signing the audit: DIR/audit.key and DIR/audit.pub (0600, never replaced)')
    .requiredOption('--out <dir>', 'the folder for the two files (created 0700 if missing)')
    .action(async (opts: { out: string }) => setCode(await runAuditKeygen(opts, io)));
  audit
    .command('check-result')
    .description('check result lines printed with --sign-results against the public key, without the log (exit 1 when one does not verify)')
    .requiredOption('--public-key <file>', 'the audit public key (audit.pub)')
    .argument('[file]', 'result lines; - or nothing for stdin', '-')
    .action(async (file: string, opts: { publicKey: string }) => setCode(await runAuditCheckResult({ publicKey: opts.publicKey, file }, io)));
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
    .command('coverage')
    .description("what the store knows it holds: each source's span, its gaps (declared and inferred) and the retention horizon")
    .option('--db <file>', 'the SQLite store')
    .option('--store <url>', STORE_HELP)
    .option('--json', 'print the listing as JSON', false)
    .option('--timeline', 'print a timeline of each source (one bar a source)', false)
    .option('--width <columns>', 'columns of the timeline bars', integer('--width', 10, 1000), 60)
    .action(async (opts: { db?: string; store?: string; json: boolean; timeline: boolean; width: number }) => {
      const { runCoverage } = await import('./cli/coverage.js');
      setCode(await runCoverage({ db: storeSpec(opts, true), json: opts.json, timeline: opts.timeline, width: opts.width }, io));
    });

  program
    .command('purge')
    .description('delete records that ended before an instant, set the retention horizon, and audit it')
    .requiredOption('--db <file>', 'the SQLite store')
    .requiredOption('--before <instant>', 'records whose interval ended at or before this ISO instant are deleted')
    .option('--audit <file>', 'audit database (default: the store itself)')
    .option('--audit-key <file>', "sign the purge's audit entries with this private key (default: the store's auditKey setting)")
    .action(async (opts: { db: string; before: string; audit?: string; auditKey?: string }) => setCode(await runPurge(opts, io)));

  program
    .command('backup')
    .description("copy a SQLite store (or audit database) while it is in use, with SQLite's online backup: WAL content included")
    .requiredOption('--db <file>', 'the store or audit database')
    .requiredOption('--to <file>', 'the copy (created 0600; never over an existing file)')
    .action(async (opts: { db: string; to: string }) => setCode(await runBackup(opts, io)));

  program
    .command('demo')
    .description('the main job on the embedded demo operator (what npm start runs)')
    .option('--dir <dir>', 'where to keep the demo stores (reused on later runs)', '.ipar')
    .action(async (opts: { dir: string }) => setCode(await runDemo(opts, io)));

  return program;
}

/**
 * Run the CLI with `argv` (without node and script) and return the exit code.
 *
 * @example
 * process.exitCode = await main(['ingest', '--db', 'op.db', 'records.ndjson']);
 */
export async function main(argv: readonly string[], given: Io = processIo): Promise<number> {
  // Every message goes out without the credentials a store URL may carry (issue 20).
  const io: Io = {
    ...given,
    stderr: {
      write: (text: string) => given.stderr.write(redactCredentials(text)),
      ...(given.stderr.isTTY === undefined ? {} : { isTTY: given.stderr.isTTY }),
    },
  };
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
      io.stderr.write(`ipar: ${error.code}: ${error.message}\n`);
      return ERRORS[error.code].exit;
    }
    io.stderr.write(`ipar: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return 3;
  }
}

/** Exit status when stdout's reader went away: 128 + SIGPIPE, as a shell reports it. */
export const EXIT_PIPE_CLOSED = 141;

const invoked = process.argv[1] === undefined ? '' : realpathSync(process.argv[1]);
if (invoked === fileURLToPath(import.meta.url)) {
  // A reader that stops early (`ipar resolve … | head`) closes the pipe: stop quietly with
  // the shell's SIGPIPE status, not a stack trace. Every line printed was audited first.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT_PIPE_CLOSED);
    // Output that cannot be written (a full disk) is an I/O error: exit 2, one line.
    const failed = outputFailed(error);
    process.stderr.write(`ipar: ${failed.code}: ${failed.message}\n`);
    process.exit(ERRORS[failed.code].exit);
  });
  process.exitCode = await main(process.argv.slice(2));
}
