import fs from 'node:fs';
import type { Engine } from '../app/engine';
import { CaneError } from '../errors';
import { SYSTEM } from '../records/actor';
import { decodeCsv } from './csv-text';
import { DUPLICATE_MODES, type DuplicateMode } from './duplicate-rule';
import { RecordImports } from './record-imports';

export interface ImportCliOptions {
  map?: string;
  duplicates?: string;
  targetList?: string;
  smsConsent?: boolean;
}

/**
 * `cane import <Module> <file.csv>`: the columns mapped by the header (or --map, a JSON object of
 * header -> field), run here with a progress line on stderr; prints the counts and where the refused rows are.
 */
export async function importFromCli(engine: Engine, module: string, file: string, opts: ImportCliOptions, progress: (line: string) => void): Promise<string> {
  const duplicates = (opts.duplicates ?? 'skip') as DuplicateMode;
  if (!DUPLICATE_MODES.includes(duplicates)) throw new CaneError('invalid_parameter', `--duplicates must be ${DUPLICATE_MODES.join(', ')}, not '${opts.duplicates}'`, 422);
  if (!engine.registry.modules.has(module)) throw new CaneError('invalid_parameter', `Unknown module ${module}`, 422);
  const imports = new RecordImports(engine);
  const id = await imports.draft(SYSTEM, module, decodeCsv(fs.readFileSync(file)), file, { keepInProcess: true });
  const { headers, suggested } = await imports.head(id, 0);
  let mapping = suggested;
  if (opts.map) {
    const byHeader = JSON.parse(fs.readFileSync(opts.map, 'utf8')) as Record<string, string>;
    if (!byHeader || typeof byHeader !== 'object' || Array.isArray(byHeader)) throw new CaneError('invalid_parameter', '--map must be a JSON object of column header -> field name', 422);
    mapping = headers.map((h) => byHeader[h] ?? '');
  }
  await imports.configure(id, mapping, duplicates, { targetListId: opts.targetList, smsConsent: opts.smsConsent });
  const started = Date.now();
  const summary = await imports.run(SYSTEM, id, (s) => {
    const seconds = (Date.now() - started) / 1000;
    progress(`\r${s.rows} rows, ${Math.round(s.rows / Math.max(seconds, 0.001))} rows/s: ${s.created} created, ${s.updated} updated, ${s.skipped} skipped, ${s.refused} refused`);
  });
  progress('\n');
  const lines = [
    `import ${id} into ${module}: ${summary.rows} rows, ${summary.created} created, ${summary.updated} updated, ${summary.skipped} duplicates skipped, ${summary.refused} refused`,
  ];
  if (summary.refused) {
    const out = `${file.replace(/\.csv$/i, '')}.refused.csv`;
    fs.writeFileSync(out, await imports.refusedCsv(id));
    lines.push(`refused rows with their reasons: ${out}`);
  }
  if (summary.message) lines.push(summary.message);
  return lines.join('\n');
}
