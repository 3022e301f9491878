import path from 'node:path';
import { planImport } from './import-plan';
import { locateSugarSource } from './sugar-source';
import { writeOverlay, type FileOutcome } from './write-overlay';
import type { SkippedConstruct } from './php-evaluator';

export interface ImportSugarOptions {
  /** Cane's overlay folder to write into (default ./custom). */
  customDir?: string;
  dryRun?: boolean;
  language?: string;
}

export interface ImportSugarResult {
  files: FileOutcome[];
  skipped: SkippedConstruct[];
  notPhp: string[];
  dryRun: boolean;
  customDir: string;
}

/** `cane import:sugar`: a Sugar/SuiteCRM installation, module folder or custom/ tree into Cane's overlay; never runs PHP. */
export function importSugar(sourcePath: string, options: ImportSugarOptions = {}): ImportSugarResult {
  const language = options.language ?? 'en_us';
  const customDir = path.resolve(options.customDir ?? 'custom');
  const plan = planImport(locateSugarSource(sourcePath, language), language);
  const files = writeOverlay(customDir, plan.files, options.dryRun === true);
  return { files, skipped: plan.problems.skipped, notPhp: plan.problems.notPhp, dryRun: options.dryRun === true, customDir };
}

export function formatImportReport(result: ImportSugarResult): string {
  const lines: string[] = [];
  const verb = result.dryRun ? 'would write' : 'wrote';
  for (const f of result.files) {
    if (f.status === 'unchanged') lines.push(`unchanged: ${f.file}`);
    else lines.push(`${verb}: ${f.file} (${f.status}${f.changedKeys.length ? `: ${f.changedKeys.join(', ')}` : ''})`);
  }
  for (const s of result.skipped) lines.push(`skipped: ${s.file}${s.line ? `:${s.line}` : ''}: ${s.what} — ${s.instead}`);
  for (const f of result.notPhp) lines.push(`skipped: ${f}: not PHP (or does not parse) — file left out`);
  const changed = result.files.filter((f) => f.status !== 'unchanged').length;
  lines.push(
    `${changed} ${result.dryRun ? 'to write' : 'written'}, ${result.files.length - changed} unchanged, ` +
      `${result.skipped.length} constructs skipped, ${result.notPhp.length} files not PHP (into ${result.customDir})`,
  );
  return lines.join('\n');
}
