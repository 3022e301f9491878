import path from 'node:path';
import { readJsonFile } from '../metadata/json-file';
import { packageRoot } from '../paths';
import { SYSTEM } from '../records/actor';
import type { Engine } from './engine';

interface DemoData {
  records: Record<string, Array<Record<string, unknown>>>;
  links: Array<{ module: string; id: string; link: string; related_id: string; fields?: Record<string, unknown> }>;
}

/**
 * Loads metadata/demo/demo-data.json through the record service (so validation, hooks and audit
 * apply as for any other write). Records whose id already exists are left alone, so loading twice
 * is harmless. Returns how many records were created.
 */
export async function loadDemoData(engine: Engine, file = path.join(packageRoot(), 'metadata', 'demo', 'demo-data.json')): Promise<number> {
  const data = readJsonFile(file) as DemoData;
  let created = 0;
  for (const [module, rows] of Object.entries(data.records)) {
    if (!engine.registry.modules.has(module)) continue;
    const table = engine.registry.module(module).table;
    for (const row of rows) {
      if (await engine.db.knex(table).where('id', row.id as string).first('id')) continue;
      await engine.records.create(SYSTEM, module, row);
      created++;
    }
  }
  for (const link of data.links) {
    await engine.records.link(SYSTEM, link.module, link.id, link.link, link.related_id, link.fields ?? {});
  }
  return created;
}
