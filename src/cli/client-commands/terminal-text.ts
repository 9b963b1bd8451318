/**
 * How client commands write for a person: aligned columns, dates as ISO 8601 to the second, and
 * long values cut with an ellipsis (`--json` gives them whole). Ids are never cut: they are what a
 * reader copies into the next command.
 *
 * Trap it avoids: a table that a terminal control sequence can rewrite. Values come from workflows
 * (inputs, errors, attribute strings), so control characters are shown escaped, never written raw.
 */

/** The longest free-form value a table cell or line shows before cutting it. */
export const MAX_VALUE_CHARS = 80;

/** `2026-12-08T01:45:03.892Z` → `2026-12-08T01:45:03Z`; anything else as it is; `null` → `-`. */
export function isoSeconds(date: string | null | undefined): string {
  if (date === null || date === undefined) return '-';
  return date.replace(/\.\d+(?=Z$|[+-]\d{2}:\d{2}$)/, '');
}

/** `text` cut to `max` characters, the last one an ellipsis. */
export function cut(text: string, max = MAX_VALUE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** Control characters (ESC, CR, …) written as JSON escapes, so a value cannot drive the terminal. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** A value on one line: compact JSON (strings quoted), cut to `max`; `undefined` → `-`. */
export function oneLine(value: unknown, max = MAX_VALUE_CHARS): string {
  if (value === undefined) return '-';
  return cut(printable(JSON.stringify(value) ?? 'undefined'), max);
}

/** The most lines `block` shows of a value. */
export const MAX_BLOCK_LINES = 20;

/**
 * A value for `fields`: compact JSON when it fits on the label's line, else indented JSON on the
 * lines below (starting with a newline), at most `MAX_BLOCK_LINES` lines each cut to
 * `MAX_VALUE_CHARS` characters.
 */
export function block(value: unknown): string {
  const compact = printable(JSON.stringify(value) ?? 'undefined');
  if (compact.length <= MAX_VALUE_CHARS) return compact;
  const lines = JSON.stringify(value, null, 2).split('\n');
  const shown = lines.slice(0, MAX_BLOCK_LINES).map((line) => cut(printable(line)));
  if (lines.length > MAX_BLOCK_LINES) {
    shown.push(`… ${lines.length - MAX_BLOCK_LINES} more lines (--json shows everything)`);
  }
  return `\n${shown.join('\n')}`;
}

/**
 * Rows under a header, each column as wide as its widest cell, two spaces apart; the last
 * column is not padded.
 *
 * @example
 * table(['ID', 'STATUS'], [['o-1', 'running']]); // 'ID   STATUS\no-1  running'
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * `label  value` lines, the values aligned after the longest label; a value of several lines (from
 * `block`) starts below its label, each line indented to the values' column.
 */
export function fields(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  const indent = ' '.repeat(width + 2);
  return pairs
    .map(([label, value]) =>
      value.startsWith('\n') ? `${label}${value.replaceAll('\n', `\n${indent}`)}` : `${label.padEnd(width)}  ${value}`,
    )
    .join('\n');
}

/** `1 run`, `2 runs`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** A duration for progress lines: `45s`, `3m05s`, `2h10m`. */
export function elapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
