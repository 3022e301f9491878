import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planImport } from './import-plan';
import { layOutPackage, packageRootOf, type TreeOrigins } from './module-package';
import { ImportProblems, locateSugarSource } from './sugar-source';
import { writeOverlay, type FileOutcome } from './write-overlay';
import { extractZip } from './zip-archive';
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

/**
 * `cane import:sugar`: a Sugar/SuiteCRM installation, module folder, custom/ tree or Module Loader
 * package (a folder with manifest.php) into Cane's overlay; never runs PHP.
 */
export function importSugar(sourcePath: string, options: ImportSugarOptions = {}): ImportSugarResult {
  const language = options.language ?? 'en_us';
  const customDir = path.resolve(options.customDir ?? 'custom');
  const packageDir = fs.existsSync(path.join(sourcePath, 'manifest.php')) ? path.resolve(sourcePath) : undefined;
  if (!packageDir) return importTree(sourcePath, customDir, language, options.dryRun === true);
  const treeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-package-tree-'));
  try {
    const packageProblems = new ImportProblems(packageDir);
    const origins = layOutPackage(packageDir, treeDir, packageProblems);
    const result = importTree(treeDir, customDir, language, options.dryRun === true);
    return {
      ...result,
      skipped: [...packageProblems.skipped, ...result.skipped.map((s) => ({ ...s, file: packagePath(s.file, origins) }))],
      notPhp: [...packageProblems.notPhp, ...result.notPhp.map((f) => packagePath(f, origins))],
    };
  } finally {
    fs.rmSync(treeDir, { recursive: true, force: true });
  }
}

/** importSugar for any source, including a package archive (.zip from Module Builder's Publish). */
export async function importSugarSource(sourcePath: string, options: ImportSugarOptions = {}): Promise<ImportSugarResult> {
  if (!fs.existsSync(sourcePath)) throw new Error(`${sourcePath} does not exist`);
  if (fs.statSync(sourcePath).isDirectory()) return importSugar(sourcePath, options);
  const archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-package-'));
  try {
    await extractZip(sourcePath, archiveDir);
    const root = packageRootOf(archiveDir);
    if (!root) throw new Error(`${sourcePath} holds no manifest.php: not a Sugar module package`);
    return importSugar(root, options);
  } finally {
    fs.rmSync(archiveDir, { recursive: true, force: true });
  }
}

function importTree(sourcePath: string, customDir: string, language: string, dryRun: boolean): ImportSugarResult {
  const plan = planImport(locateSugarSource(sourcePath, language), language);
  const files = writeOverlay(customDir, plan.files, dryRun);
  return { files, skipped: plan.problems.skipped, notPhp: plan.problems.notPhp, dryRun, customDir };
}

/** A file of the laid-out tree named as the package holds it. */
function packagePath(treeFile: string, origins: TreeOrigins): string {
  const origin = origins.filter((o) => treeFile === o.tree || treeFile.startsWith(`${o.tree}/`) || o.tree === '').sort((a, b) => b.tree.length - a.tree.length)[0];
  if (!origin) return treeFile;
  return path.join(origin.pkg, path.relative(origin.tree, treeFile) || '') || treeFile;
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
