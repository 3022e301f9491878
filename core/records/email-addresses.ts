import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { FieldProblem } from '../errors';
import type { ModuleDef } from '../metadata/registry';
import type { FieldDef } from '../metadata/types';
import { isTruthy } from '../metadata/field-types';
import { insertRows } from '../db/insert-rows';

/**
 * Sugar's e-mail model: each address stored once in email_addresses (email_address_caps for
 * lookups, opt_out and invalid_email flags belong to the address), linked to records through
 * email_addr_bean_rel (bean_module, primary_address, reply_to_address). Records show them as the
 * non-db fields email1 (primary), email2, email (all, v10's list), email_opt_out and invalid_email.
 */
export interface EmailEntry {
  email_address: string;
  primary_address: boolean;
  reply_to_address: boolean;
  opt_out: boolean;
  invalid_email: boolean;
}

/** What a save asks for: each member is set only when the caller sent that field. */
export interface EmailInput {
  primary?: string | null;
  secondary?: string | null;
  all?: EmailEntry[];
  optOut?: boolean;
  invalid?: boolean;
  /** The fields that carried it, for error messages. */
  fields: Record<'primary' | 'secondary' | 'all' | 'opt_out' | 'invalid', string | undefined>;
}

type EmailKind = NonNullable<FieldDef['cane_email']>;

// The HTML specification's "valid e-mail address", as ajv-formats' fast email format.
const EMAIL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

export function hasEmailFields(module: ModuleDef): boolean {
  return Object.values(module.fields).some((f) => f.cane_email);
}

/** Reads one e-mail field of record input into `into`; shape problems are reported, address formats are checked later. */
export function readEmailInput(field: FieldDef, raw: unknown, into: EmailInput, problems: FieldProblem[]): void {
  const kind = field.cane_email as EmailKind;
  into.fields[kind] = field.name;
  const problem = (message: string, rule = 'email'): void => { problems.push({ field: field.name, rule, message }); };
  switch (kind) {
    case 'primary': case 'secondary': {
      if (raw !== null && raw !== undefined && typeof raw !== 'string') return problem('must be an e-mail address');
      const value = typeof raw === 'string' ? raw.trim() : '';
      into[kind] = value || null;
      return;
    }
    case 'opt_out': case 'invalid': {
      const flag = boolOf(raw);
      if (flag === undefined) return problem(`must be true or false, got ${JSON.stringify(raw)}`, 'bool');
      into[kind === 'opt_out' ? 'optOut' : 'invalid'] = flag;
      return;
    }
    case 'all': {
      if (!Array.isArray(raw)) return problem('must be a list of {email_address, primary_address, reply_to_address, opt_out, invalid_email}');
      const entries: EmailEntry[] = [];
      for (const [i, item] of raw.entries()) {
        const address = item && typeof item === 'object' ? (item as Record<string, unknown>).email_address : undefined;
        if (typeof address !== 'string' || !address.trim()) return problem(`entry ${i} needs an email_address`);
        const flags = item as Record<string, unknown>;
        entries.push({
          email_address: address.trim(),
          primary_address: boolOf(flags.primary_address) ?? false,
          reply_to_address: boolOf(flags.reply_to_address) ?? false,
          opt_out: boolOf(flags.opt_out) ?? false,
          invalid_email: boolOf(flags.invalid_email) ?? false,
        });
      }
      if (entries.length && !entries.some((e) => e.primary_address)) entries[0].primary_address = true;
      if (entries.filter((e) => e.primary_address).length > 1) return problem('has more than one primary_address');
      into.all = entries;
    }
  }
}

/** Addresses that are new to the record must be well-formed; ones it already has (SuiteCRM may have stored odd ones) are kept as they are. */
export function checkEmailInput(input: EmailInput, current: EmailEntry[]): FieldProblem[] {
  const known = new Set(current.map((e) => e.email_address.toUpperCase()));
  const problems: FieldProblem[] = [];
  const check = (address: string | null | undefined, field: string | undefined) => {
    if (address && !known.has(address.toUpperCase()) && !EMAIL.test(address)) problems.push({ field: field ?? 'email', rule: 'email', message: `'${address}' is not a valid e-mail address` });
  };
  check(input.primary, input.fields.primary);
  check(input.secondary, input.fields.secondary);
  for (const entry of input.all ?? []) check(entry.email_address, input.fields.all);
  return problems;
}

/** The address rows of the records, grouped by record: primary first, then in the order they were added. */
async function addressRowsByRecord(knex: Knex, module: string, ids: string[]): Promise<Map<string, Array<Record<string, unknown>>>> {
  const byId = new Map<string, Array<Record<string, unknown>>>();
  if (!ids.length) return byId;
  const rows: Array<Record<string, unknown>> = await knex('email_addr_bean_rel as r')
    .join('email_addresses as a', 'a.id', 'r.email_address_id')
    .whereIn('r.bean_id', ids).andWhere({ 'r.bean_module': module, 'r.deleted': 0, 'a.deleted': 0 })
    .orderBy([{ column: 'r.primary_address', order: 'desc' }, { column: 'r.date_created' }, { column: 'r.id' }])
    .select('r.bean_id', 'a.id', 'a.email_address', 'a.email_address_caps', 'a.opt_out', 'a.invalid_email', 'r.primary_address', 'r.reply_to_address');
  for (const row of rows) {
    const id = String(row.bean_id);
    if (!byId.has(id)) byId.set(id, []);
    byId.get(id)!.push(row);
  }
  return byId;
}

const regroup = <T>(byId: Map<string, Array<Record<string, unknown>>>, shape: (row: Record<string, unknown>) => T) =>
  new Map([...byId].map(([id, rows]) => [id, rows.map(shape)]));

/** Every record's addresses, primary first, then in the order they were added. */
export async function readEmails(knex: Knex, module: string, ids: string[]): Promise<Map<string, EmailEntry[]>> {
  return regroup(await addressRowsByRecord(knex, module, ids), (row) => ({
    email_address: String(row.email_address ?? ''),
    primary_address: isTruthy(row.primary_address),
    reply_to_address: isTruthy(row.reply_to_address),
    opt_out: isTruthy(row.opt_out),
    invalid_email: isTruthy(row.invalid_email),
  }));
}

/**
 * The records' addresses as Sugar's `email_addresses` link lists them (v4_1 link_name_to_fields_array):
 * the address row's fields plus the link's primary_address and reply_to_address, as Sugar's strings.
 */
export async function emailAddressLinkRows(knex: Knex, module: string, ids: string[]): Promise<Map<string, Array<Record<string, string>>>> {
  const flag = (v: unknown) => (isTruthy(v) ? '1' : '0');
  return regroup(await addressRowsByRecord(knex, module, ids), (row) => ({
    id: String(row.id), email_address: String(row.email_address ?? ''), email_address_caps: String(row.email_address_caps ?? ''),
    opt_out: flag(row.opt_out), invalid_email: flag(row.invalid_email), primary_address: flag(row.primary_address), reply_to_address: flag(row.reply_to_address),
  }));
}

/** The values of the e-mail fields for a record's addresses. */
export function emailFieldValue(kind: EmailKind, entries: EmailEntry[]): unknown {
  const primary = entries.find((e) => e.primary_address);
  switch (kind) {
    case 'primary': return primary?.email_address ?? '';
    case 'secondary': return entries.find((e) => !e.primary_address)?.email_address ?? '';
    case 'all': return entries.map((e) => ({ ...e }));
    case 'opt_out': return primary?.opt_out ?? false;
    case 'invalid': return primary?.invalid_email ?? false;
  }
}

/** The record's addresses after applying the input to what it has now. */
export function desiredEmails(current: EmailEntry[], input: EmailInput): EmailEntry[] {
  if (input.all) return input.all;
  const next = current.map((e) => ({ ...e }));
  const same = (a: string, b: string) => a.toUpperCase() === b.toUpperCase();
  const blank = (address: string): EmailEntry => ({ email_address: address, primary_address: false, reply_to_address: false, opt_out: false, invalid_email: false });
  if (input.primary !== undefined) {
    const at = next.findIndex((e) => e.primary_address);
    if (at >= 0) next.splice(at, 1);
    if (input.primary) {
      const existing = next.findIndex((e) => same(e.email_address, input.primary!));
      const entry = existing >= 0 ? next.splice(existing, 1)[0] : blank(input.primary);
      next.unshift({ ...entry, primary_address: true });
    }
    if (!next.some((e) => e.primary_address) && next.length) next[0].primary_address = true;
  }
  if (input.secondary !== undefined) {
    const at = next.findIndex((e) => !e.primary_address);
    if (at >= 0) next.splice(at, 1);
    if (input.secondary && !next.some((e) => same(e.email_address, input.secondary!))) {
      next.splice(next.some((e) => e.primary_address) ? 1 : 0, 0, { ...blank(input.secondary), primary_address: !next.length });
    }
  }
  const primary = next.find((e) => e.primary_address);
  if (primary && input.optOut !== undefined) primary.opt_out = input.optOut;
  if (primary && input.invalid !== undefined) primary.invalid_email = input.invalid;
  return next;
}

/** Writes the record's addresses inside the save's transaction. */
export async function writeEmails(trx: Knex, module: string, recordId: string, current: EmailEntry[], desired: EmailEntry[], now: string): Promise<void> {
  const links: Array<{ id: string; email_address_caps: string }> = await trx('email_addr_bean_rel as r')
    .join('email_addresses as a', 'a.id', 'r.email_address_id')
    .where({ 'r.bean_id': recordId, 'r.bean_module': module, 'r.deleted': 0 })
    .select('r.id', 'a.email_address_caps');
  const wanted = new Map(desired.map((e) => [e.email_address.toUpperCase(), e]));
  for (const link of links) {
    if (!wanted.has(String(link.email_address_caps))) await trx('email_addr_bean_rel').where('id', link.id).update({ deleted: 1, date_modified: now });
  }
  const flagsBefore = new Map(current.map((e) => [e.email_address.toUpperCase(), e]));
  for (const entry of desired) {
    const caps = entry.email_address.toUpperCase();
    const found: { id: string } | undefined = await trx('email_addresses').where({ email_address_caps: caps, deleted: 0 }).first('id');
    const address = found ?? { id: crypto.randomUUID() };
    if (!found) {
      await trx('email_addresses').insert({ id: address.id, email_address: entry.email_address, email_address_caps: caps, opt_out: entry.opt_out ? 1 : 0, invalid_email: entry.invalid_email ? 1 : 0, date_created: now, date_modified: now, deleted: 0 });
    } else {
      // Flags belong to the address (shared by every record with it): change them only when this save changed them.
      const before = flagsBefore.get(caps);
      if (before && (before.opt_out !== entry.opt_out || before.invalid_email !== entry.invalid_email)) {
        await trx('email_addresses').where('id', address.id).update({ opt_out: entry.opt_out ? 1 : 0, invalid_email: entry.invalid_email ? 1 : 0, date_modified: now });
      }
    }
    const flags = { primary_address: entry.primary_address ? 1 : 0, reply_to_address: entry.reply_to_address ? 1 : 0 };
    const link = links.find((l) => String(l.email_address_caps) === caps);
    if (link) await trx('email_addr_bean_rel').where('id', link.id).update({ ...flags, date_modified: now });
    else await trx('email_addr_bean_rel').insert({ id: crypto.randomUUID(), email_address_id: address.id, bean_id: recordId, bean_module: module, ...flags, date_created: now, date_modified: now, deleted: 0 });
  }
}

/**
 * writeEmails for records created together, which have no addresses yet: the known addresses found
 * with one query per chunk, the new ones and the links inserted many rows at a time. An address
 * that several of the records share is stored once, as writing them one after another would.
 */
export async function writeNewRecordsEmails(trx: Knex, module: string, records: Array<{ recordId: string; desired: EmailEntry[]; now: string }>): Promise<void> {
  const wanted = [...new Set(records.flatMap((r) => r.desired.map((e) => e.email_address.toUpperCase())))];
  const addressIds = new Map<string, string>();
  for (let i = 0; i < wanted.length; i += 500) {
    const found: Array<{ id: string; email_address_caps: string }> = await trx('email_addresses').whereIn('email_address_caps', wanted.slice(i, i + 500)).andWhere('deleted', 0).select('id', 'email_address_caps');
    for (const row of found) if (!addressIds.has(String(row.email_address_caps))) addressIds.set(String(row.email_address_caps), row.id);
  }
  const addresses: Array<Record<string, unknown>> = [];
  const links: Array<Record<string, unknown>> = [];
  for (const { recordId, desired, now } of records) {
    for (const entry of desired) {
      const caps = entry.email_address.toUpperCase();
      let addressId = addressIds.get(caps);
      if (!addressId) {
        addressId = crypto.randomUUID();
        addressIds.set(caps, addressId);
        addresses.push({ id: addressId, email_address: entry.email_address, email_address_caps: caps, opt_out: entry.opt_out ? 1 : 0, invalid_email: entry.invalid_email ? 1 : 0, date_created: now, date_modified: now, deleted: 0 });
      }
      links.push({ id: crypto.randomUUID(), email_address_id: addressId, bean_id: recordId, bean_module: module, primary_address: entry.primary_address ? 1 : 0, reply_to_address: entry.reply_to_address ? 1 : 0, date_created: now, date_modified: now, deleted: 0 });
    }
  }
  await insertRows(trx, 'email_addresses', addresses);
  await insertRows(trx, 'email_addr_bean_rel', links);
}

function boolOf(raw: unknown): boolean | undefined {
  if (raw === true || raw === 1 || raw === '1' || raw === 'true' || raw === 'on') return true;
  if (raw === false || raw === 0 || raw === '0' || raw === 'false' || raw === '' || raw === null || raw === undefined) return false;
  return undefined;
}
