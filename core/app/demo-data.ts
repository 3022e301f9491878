import path from 'node:path';
import { readJsonFile } from '../metadata/json-file';
import { packageRoot } from '../paths';
import { SYSTEM } from '../records/actor';
import { LeadConversion } from '../records/lead-conversion';
import type { Engine } from './engine';

interface DemoData {
  records: Record<string, Array<Record<string, unknown>>>;
  links: Array<{ module: string; id: string; link: string; related_id: string; fields?: Record<string, unknown> }>;
  /** Leads converted as a user would (Contacts, Accounts, Opportunities made from them). */
  conversions?: Array<{ lead: string; modules: Record<string, Record<string, unknown>>; transfer_activities?: boolean }>;
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
  for (const conversion of data.conversions ?? []) {
    const lead = await engine.db.knex('leads').where({ id: conversion.lead, deleted: 0 }).first('converted');
    if (!lead || Number(lead.converted) === 1 || !engine.registry.module('Leads').views.convert) continue;
    const made = await new LeadConversion(engine.context, engine.records).convert(SYSTEM, conversion.lead, { modules: conversion.modules, transfer_activities: conversion.transfer_activities });
    created += made.filter((m) => m.created).length;
  }
  return created;
}
