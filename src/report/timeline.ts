/**
 * The timeline of one observation as inline SVG (no script, no font, no link): the
 * observation window as a band over every row, each alternative reading's window, and on
 * their own rows the records around it. Every drawn window and record carries its
 * interval in `data-start` / `data-end` (ISO, UTC) so a test — or a person with the
 * inspector — can check that it is drawn at its time.
 */
import { formatInstant, type Window } from '../time.js';
import { escapeHtml } from './escape.js';
import type { Row, SourceRelation, SourceSpan } from './gather.js';

export const WIDTH = 980;
export const LABEL_WIDTH = 250;
const PLOT_RIGHT = WIDTH - 14;
const AXIS_HEIGHT = 34;
const ROW_HEIGHT = 22;
const BAR_HEIGHT = 14;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const STEPS = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  24 * HOUR,
  48 * HOUR,
  168 * HOUR,
];

/** The tick step for a span: the smallest that gives at most eight ticks. */
export function tickStep(spanMs: number): number {
  return STEPS.find((s) => spanMs / s <= 8) ?? Math.ceil(spanMs / 8 / (24 * HOUR)) * 24 * HOUR;
}

function tickLabel(t: number, step: number, first: boolean): string {
  const iso = formatInstant(t); // 2026-03-28T10:00:00.000Z
  const time = step < SECOND ? iso.slice(11, 23) : step < MINUTE ? iso.slice(11, 19) : iso.slice(11, 16);
  return first || step >= 24 * HOUR ? `${iso.slice(0, 10)} ${time}` : time;
}

/** x of an instant in the plot, clamped to it. */
export function xOf(t: number, span: Window): number {
  const f = (Math.min(Math.max(t, span.start), span.end) - span.start) / (span.end - span.start);
  return LABEL_WIDTH + f * (PLOT_RIGHT - LABEL_WIDTH);
}

function iso(t: number | null): string {
  return t === null ? 'open' : formatInstant(t);
}

function overlapsSpan(start: number, end: number | null, span: Window): boolean {
  return start < span.end && (end === null || end > span.start);
}

/** The rows worth drawing in a span: the window, readings and sources always (a source's data may end before it), records that reach into it. */
export function rowsIn(rows: readonly Row[], span: Window): Row[] {
  return rows.flatMap((r) => {
    if (r.group === 'window') return [r];
    if (r.group === 'source') return [{ ...r, bars: r.bars.filter((b) => overlapsSpan(b.start, b.end, span)) }];
    if (r.group === 'reading') return r.window !== undefined && overlapsSpan(r.window.start, r.window.end, span) ? [r] : [];
    const bars = r.bars.filter((b) => overlapsSpan(b.start, b.end, span));
    return bars.length === 0 ? [] : [{ ...r, bars }];
  });
}

const RELATION_WORDS: Readonly<Record<SourceRelation, string>> = {
  inside: 'the window is inside its data',
  before: 'the window is before its first record',
  after: 'the window is after its last record',
  partial: 'the window runs past an edge of its data',
  unknown: 'the store holds no span for it (only a declared gap)',
};

function minute(t: number): string {
  return `${formatInstant(t).slice(0, 16).replace('T', ' ')}Z`;
}

/** A source's span: a rect where it reaches the view, else a note saying which side it lies. */
function sourceSpan(src: SourceSpan, span: Window, by: number): string {
  const gap = src.windowInGap.length === 0 ? '' : `; the window is in its ${src.windowInGap.join(' and ')} gap`;
  if (src.first === null || src.last === null)
    return `<text class="off-view source-note" x="${LABEL_WIDTH + 4}" y="${by + 11}">no span recorded for ${escapeHtml(src.name)}</text>`;
  const title = `${src.name}${src.role === null ? '' : ` (${src.role})`}: data from ${iso(src.first)} to ${iso(src.last)}, ${src.events} events; ${RELATION_WORDS[src.relation]}${gap}`;
  if (src.last < span.start)
    return `<text class="off-view source-note" x="${LABEL_WIDTH + 4}" y="${by + 11}" text-anchor="start">← its data ends ${escapeHtml(minute(src.last))}<title>${escapeHtml(title)}</title></text>`;
  if (src.first > span.end)
    return `<text class="off-view source-note" x="${PLOT_RIGHT - 4}" y="${by + 11}" text-anchor="end">its data begins ${escapeHtml(minute(src.first))} →<title>${escapeHtml(title)}</title></text>`;
  const x0 = xOf(src.first, span);
  const x1 = xOf(src.last, span);
  const out = [rect('source-span', x0, x1, by + 3, BAR_HEIGHT - 6, `data-start="${iso(src.first)}" data-end="${iso(src.last)}"`, title)];
  if (src.first < span.start) out.push(`<text class="clip" x="${(x0 + 2).toFixed(2)}" y="${by + 11}">‹</text>`);
  if (src.last > span.end) out.push(`<text class="clip" x="${(x1 - 8).toFixed(2)}" y="${by + 11}">›</text>`);
  if (src.last >= span.start && src.last < span.end) out.push(`<text class="source-note" x="${(x1 + 4).toFixed(2)}" y="${by + 11}">last record</text>`);
  if (src.first > span.start && src.first <= span.end)
    out.push(`<text class="source-note" x="${(x0 - 4).toFixed(2)}" y="${by + 11}" text-anchor="end">first record</text>`);
  return out.join('');
}

function rect(cls: string, x0: number, x1: number, y: number, h: number, attrs: string, title: string): string {
  const w = Math.max(2, x1 - x0);
  const x = x1 - x0 < 2 ? x0 - (2 - (x1 - x0)) / 2 : x0;
  return `<rect class="${cls}" x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${h}" ${attrs}><title>${escapeHtml(title)}</title></rect>`;
}

/**
 * One timeline as an `<svg>` element.
 *
 * @example
 * timelineSvg(view.rows, view.span, view.window, 'all readings'); // '<svg class="timeline" …>…</svg>'
 */
export function timelineSvg(allRows: readonly Row[], span: Window, window: Window, caption: string): string {
  const rows = rowsIn(allRows, span);
  const height = AXIS_HEIGHT + rows.length * ROW_HEIGHT + 8;
  const out: string[] = [];
  out.push(
    `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" data-span-start="${formatInstant(span.start)}" data-span-end="${formatInstant(span.end)}" data-plot-left="${LABEL_WIDTH}" data-plot-right="${PLOT_RIGHT}">`,
  );
  out.push(`<title>${escapeHtml(caption)}</title>`);
  // Axis: ticks at round instants (UTC).
  const step = tickStep(span.end - span.start);
  let first = true;
  for (let t = Math.ceil(span.start / step) * step; t <= span.end; t += step) {
    const x = xOf(t, span).toFixed(2);
    out.push(`<line class="tick" x1="${x}" y1="${AXIS_HEIGHT - 6}" x2="${x}" y2="${height - 4}"/>`);
    out.push(`<text class="tick-label" x="${x}" y="${AXIS_HEIGHT - 10}" text-anchor="middle">${escapeHtml(tickLabel(t, step, first))}</text>`);
    first = false;
  }
  out.push(`<text class="axis-note" x="4" y="${AXIS_HEIGHT - 10}">UTC</text>`);
  // The observation window as a band through every row.
  const wx0 = xOf(window.start, span),
    wx1 = xOf(window.end, span);
  out.push(
    rect(
      'window-band',
      wx0,
      wx1,
      AXIS_HEIGHT - 4,
      height - AXIS_HEIGHT,
      `data-start="${iso(window.start)}" data-end="${iso(window.end)}"`,
      `observation window ${iso(window.start)} – ${iso(window.end)}`,
    ),
  );
  rows.forEach((row, i) => {
    const y = AXIS_HEIGHT + i * ROW_HEIGHT;
    const by = y + (ROW_HEIGHT - BAR_HEIGHT) / 2;
    const src = row.source;
    const srcAttrs =
      src === undefined
        ? ''
        : ` data-source="${escapeHtml(src.name)}" data-first="${src.first === null ? '' : iso(src.first)}" data-last="${src.last === null ? '' : iso(src.last)}" data-relation="${src.relation}" data-in-gap="${src.windowInGap.join(' ')}"`;
    out.push(`<g class="row row-${row.group}" data-label="${escapeHtml(row.label)}"${srcAttrs}>`);
    if (i % 2 === 0) out.push(`<rect class="stripe" x="0" y="${y}" width="${WIDTH}" height="${ROW_HEIGHT}"/>`);
    out.push(
      `<text class="row-label" x="4" y="${y + ROW_HEIGHT / 2 + 4}">${escapeHtml(row.label.length > 40 ? row.label.slice(0, 39) + '…' : row.label)}</text>`,
    );
    if (row.window !== undefined) {
      const w = row.window;
      const cls = row.group === 'window' ? 'window' : `reading${row.changes == null ? '' : ' reading-changes'}`;
      const note =
        row.changes === 'drops'
          ? ' — drops an account of the answer'
          : row.changes === 'adds'
            ? ' — finds accounts the answer lacks'
            : row.changes === 'both'
              ? ' — changes the answer'
              : '';
      out.push(
        rect(
          cls,
          xOf(w.start, span),
          xOf(w.end, span),
          by,
          BAR_HEIGHT,
          `data-start="${iso(w.start)}" data-end="${iso(w.end)}"${row.changes == null ? '' : ` data-changes="${row.changes}"`}`,
          `${row.label}: ${iso(w.start)} – ${iso(w.end)}${note}`,
        ),
      );
      if (w.end <= span.start || w.start >= span.end)
        out.push(
          `<text class="off-view" x="${w.start >= span.end ? PLOT_RIGHT - 4 : LABEL_WIDTH + 4}" y="${by + 11}" text-anchor="${w.start >= span.end ? 'end' : 'start'}">${w.start >= span.end ? 'later →' : '← earlier'}</text>`,
        );
    }
    if (src !== undefined) out.push(sourceSpan(src, span, by));
    for (const b of row.bars) {
      const x0 = xOf(b.start, span);
      const x1 = xOf(b.end ?? span.end, span);
      const cls = `bar bar-${b.kind}${b.evidence ? ' evidence' : ''}${b.endInferred ? ' inferred' : ''}`;
      const title = `${b.kind}: ${b.label}; ${iso(b.start)} – ${b.end === null ? 'still open' : iso(b.end)}${b.endInferred ? ' (end inferred, not logged)' : ''}${b.evidence ? ' — evidence for the answer' : ''}`;
      out.push(rect(cls, x0, x1, by, BAR_HEIGHT, `data-kind="${b.kind}" data-start="${iso(b.start)}" data-end="${iso(b.end)}"`, title));
      if (b.start < span.start) out.push(`<text class="clip" x="${(x0 + 2).toFixed(2)}" y="${by + 11}">‹</text>`);
      if (b.end === null || b.end > span.end) out.push(`<text class="clip" x="${(x1 - 8).toFixed(2)}" y="${by + 11}">›</text>`);
    }
    out.push('</g>');
  });
  out.push('</svg>');
  return out.join('');
}
