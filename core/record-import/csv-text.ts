import { parse, type Options } from 'csv-parse';
import { parse as parseSync, CsvError } from 'csv-parse/sync';
import { CaneError } from '../errors';

export type CsvEncoding = 'utf-8' | 'windows-1252' | 'utf-16le' | 'utf-16be';
export type CsvDelimiter = ',' | ';' | '\t';

/** A file's text as read: the encoding it was found in and its delimiter. */
export interface CsvText {
  text: string;
  encoding: CsvEncoding;
  delimiter: CsvDelimiter;
}

/**
 * Bytes to text: a BOM names the encoding (and is dropped); otherwise UTF-8 when the bytes are
 * valid UTF-8, else Windows-1252 (a superset of Latin-1 that spreadsheet programs write on Windows).
 */
export function decodeCsv(bytes: Uint8Array): CsvText {
  let encoding: CsvEncoding;
  let body = bytes;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) [encoding, body] = ['utf-8', bytes.subarray(3)];
  else if (bytes[0] === 0xff && bytes[1] === 0xfe) [encoding, body] = ['utf-16le', bytes.subarray(2)];
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) [encoding, body] = ['utf-16be', bytes.subarray(2)];
  else encoding = isUtf8(bytes) ? 'utf-8' : 'windows-1252';
  const text = new TextDecoder(encoding).decode(body);
  return { text, encoding, delimiter: detectDelimiter(text) };
}

/** Pasted text: already decoded; a BOM that came along is dropped. */
export function csvFromText(text: string): CsvText {
  const clean = text.startsWith('\uFEFF') ? text.slice(1) : text;
  return { text: clean, encoding: 'utf-8', delimiter: detectDelimiter(clean) };
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The delimiter that occurs most often outside quotes in the header line (comma when none does). */
export function detectDelimiter(text: string): CsvDelimiter {
  const counts: Record<CsvDelimiter, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of text.slice(0, 64 * 1024)) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && ch in counts) counts[ch as CsvDelimiter] += 1;
  }
  const best = (Object.entries(counts) as Array<[CsvDelimiter, number]>).sort((a, b) => b[1] - a[1])[0];
  return best[1] > 0 ? best[0] : ',';
}

const OPTIONS = (delimiter: CsvDelimiter): Options => ({
  delimiter, bom: true, relax_column_count: true, skip_empty_lines: true, trim: false,
});

/** The header and the first `limit` data rows (for mapping and the preview). */
export function readHead(csv: CsvText, limit: number): { headers: string[]; rows: string[][] } {
  try {
    const records = parseSync(csv.text, { ...OPTIONS(csv.delimiter), to: limit + 1 }) as string[][];
    if (!records.length) throw new CaneError('invalid_parameter', 'The file is empty: it needs a header line naming its columns', 422, { field: 'file', rule: 'required' });
    return { headers: records[0].map((h) => h.trim()), rows: records.slice(1) };
  } catch (err) {
    throw csvProblem(err);
  }
}

/** Every data row after the header, one at a time, with its line number in the file. */
export async function* readRows(csv: CsvText): AsyncGenerator<{ line: number; bytes: number; values: string[] }> {
  const parser = parse(csv.text, { ...OPTIONS(csv.delimiter), from_line: 1, info: true });
  let first = true;
  try {
    for await (const entry of parser as AsyncIterable<{ record: string[]; info: { lines: number; bytes: number } }>) {
      if (first) {
        first = false;
        continue;
      }
      yield { line: entry.info.lines, bytes: entry.info.bytes, values: entry.record };
    }
  } catch (err) {
    throw csvProblem(err);
  }
}

/** A csv-parse error as a refusal that says where the file is broken. */
export function csvProblem(err: unknown): unknown {
  if (err instanceof CsvError) {
    const line = (err as CsvError & { lines?: number }).lines;
    return new CaneError('invalid_parameter', `The file is not valid CSV${line ? ` at line ${line}` : ''}: ${err.message}`, 422, { field: 'file', rule: 'csv', code: err.code, line });
  }
  return err;
}
