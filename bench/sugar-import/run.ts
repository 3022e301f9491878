/**
 * How much of a SugarCRM/SuiteCRM installation loads after `cane import:sugar`: imports the source
 * (SUGAR_SOURCE, a folder with modules/, metadata/ and include/language/), then loads each imported
 * module folder on its own (with the shared files: dropdowns, join tables, Extension fragments) and
 * prints which load and why the others do not. Usage:
 *   SUGAR_SOURCE=/path/to/SuiteCRM npm run bench:sugar-import
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importSugar } from '../../core/import/import-sugar';
import { loadRegistry } from '../../core/metadata/registry';
import { openDatabase } from '../../core/db/connection';
import { applySync, planSync } from '../../core/db/sync';

async function main(source: string | undefined) {
  if (!source) {
    console.error('set SUGAR_SOURCE to a SugarCRM/SuiteCRM folder (with modules/, metadata/, include/language/)');
    process.exitCode = 2;
    return;
  }
  const started = performance.now();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-sugar-measure-'));
  const result = importSugar(source, { customDir: out });
  const importMs = performance.now() - started;
  const modules = fs.readdirSync(path.join(out, 'modules')).sort();
  const shared = fs.readdirSync(out).filter((f) => f !== 'modules');

  const loaded: string[] = [];
  const refused: Array<{ module: string; reason: string }> = [];
  for (const module of modules) {
    const alone = fs.mkdtempSync(path.join(os.tmpdir(), `cane-sugar-${module}-`));
    for (const f of shared) fs.cpSync(path.join(out, f), path.join(alone, f), { recursive: true });
    fs.cpSync(path.join(out, 'modules', module), path.join(alone, 'modules', module), { recursive: true });
    try {
      loadRegistry({ customDir: alone, warn: () => {} }).module(module);
      loaded.push(module);
    } catch (err) {
      refused.push({ module, reason: (err as Error).message.replace(alone, '').split('\n')[0] });
    }
    fs.rmSync(alone, { recursive: true, force: true });
  }
  // All of them at once, and their tables created (SQLite; MEASURE_DATABASE_URL for another database, which must be empty).
  const together = loadRegistry({ customDir: out, warn: () => {} });
  const databaseUrl = process.env.MEASURE_DATABASE_URL ?? `sqlite:${path.join(out, 'measure.sqlite')}`;
  const db = openDatabase(databaseUrl);
  const plan = await planSync(db, together);
  await applySync(db, plan);
  const tables = plan.steps.length;
  await db.close();
  const sourceModules = fs.readdirSync(path.join(source, 'modules')).filter((m) => fs.existsSync(path.join(source, 'modules', m, 'vardefs.php')));
  console.log(`source: ${sourceModules.length} module folders with vardefs.php; ${modules.length} imported (the rest are modules Cane ships or on Cane's own tables)`);
  console.log(`import: ${Math.round(importMs)} ms, ${result.files.length} files, ${result.skipped.length} constructs reported, ${result.notPhp.length} files not PHP`);
  console.log(`load on their own: ${loaded.length} of ${modules.length}`);
  for (const r of refused) console.log(`  refused ${r.module}: ${r.reason}`);
  console.log(`all together: ${together.modules.size} modules load; db:sync applied ${tables} changes on ${databaseUrl.replace(/\/\/[^@]*@/, '//')}`);
  fs.rmSync(out, { recursive: true, force: true });
}

main(process.env.SUGAR_SOURCE).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
