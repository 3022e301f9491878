import path from 'node:path';
import { readJsonFile } from '../metadata/json-file';
import { packageRoot } from '../paths';
import { SYSTEM } from '../records/actor';
import { LeadConversion } from '../records/lead-conversion';
import { ConsentLedger, type ConsentSource, type ConsentState } from '../sms/consent';
import type { Engine } from './engine';

interface DemoData {
  records: Record<string, Array<Record<string, unknown>>>;
  links: Array<{ module: string; id: string; link: string; related_id: string; fields?: Record<string, unknown> }>;
  /** Leads converted as a user would (Contacts, Accounts, Opportunities made from them). */
  conversions?: Array<{ lead: string; modules: Record<string, Record<string, unknown>>; transfer_activities?: boolean }>;
  /** SMS consent as it was collected (opt-ins at signup, a STOP reply), in order. */
  consent?: Array<{ phone: string; state: ConsentState; source: ConsentSource; note?: string; reference?: string }>;
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
  const ledger = new ConsentLedger(engine.db, engine.context.clock);
  for (const change of data.consent ?? []) {
    if (await engine.db.knex('sms_consent_history').where({ phone_e164: change.phone, state: change.state, source: change.source }).first('id')) continue;
    await ledger.record(change);
  }
  return created;
}
