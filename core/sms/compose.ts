import Ajv, { type ValidateFunction } from 'ajv';
import { NotFoundError, ValidationError, type FieldProblem } from '../errors';
import { fieldLabel } from '../metadata/labels';
import type { Registry } from '../metadata/registry';
import type { Actor } from '../records/actor';
import type { RecordService } from '../records/record-service';
import { consentRefusal, type ConsentLedger } from './consent';
import { normalisePhone } from './phone';
import { DEFAULT_PHONE_FIELD, RECIPIENT_MODULES } from './phone-index';
import { bodyProblem, encodingAndSegments } from './segments';
import { compileSmsTemplate, renderWithGaps, TemplateProblem } from './templates';

/** What POST /rest/v10/SMS/send (and every other sending path) accepts. */
export interface SendRequest {
  to?: string | string[];
  parent_type?: string;
  parent_id?: string;
  records?: Array<{ module: string; id: string }>;
  body?: string;
  template_id?: string;
  /** Phone field of the records to use (default: the mobile number; Accounts: phone_office). */
  phone_field?: string;
  campaign_id?: string;
  /** Makes a retried request safe: the same key and recipient never create a second message. */
  idempotency_key?: string;
}

/** Why a recipient was refused, for counting (the reason says it for people). */
/** `refused`: the message's record save was refused (a before_save hook, a validation rule); the reason is its error's message. */
export type RefusalCode = 'invalid_number' | 'no_number' | 'not_found' | 'not_recipient' | 'duplicate' | 'opted_out' | 'frequency_cap' | 'template' | 'body' | 'refused';

export interface Refusal {
  to?: string;
  module?: string;
  id?: string;
  code: RefusalCode;
  reason: string;
}

export interface Draft {
  to: string;
  body: string;
  facts: { encoding: 'GSM-7' | 'UCS-2'; segments: number };
  module?: string;
  id?: string;
  name?: string;
  accountId?: string;
  /** Merge fields this recipient's record left empty. */
  emptyFields?: string[];
}

export interface Composition {
  drafts: Draft[];
  refused: Refusal[];
  template?: { id: string; name: string; template_type: string };
}

/** Records one SMS/send request may name; a send in the background (SMS/sends) may name MAX_BACKGROUND_RECIPIENTS. */
export const MAX_RECIPIENTS = 10_000;
export const MAX_BACKGROUND_RECIPIENTS = 100_000;

const schemaFor = (maxRecords: number) => ({
  type: 'object',
  additionalProperties: false,
  properties: {
    to: { anyOf: [{ type: 'string', minLength: 1, maxLength: 40 }, { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string', maxLength: 40 } }] },
    parent_type: { type: 'string', minLength: 1, maxLength: 100 },
    parent_id: { type: 'string', minLength: 1, maxLength: 36 },
    records: { type: 'array', minItems: 1, maxItems: maxRecords, items: { type: 'object', required: ['module', 'id'], additionalProperties: false, properties: { module: { type: 'string', maxLength: 100 }, id: { type: 'string', maxLength: 36 } } } },
    body: { type: 'string', maxLength: 20_000 },
    template_id: { type: 'string', minLength: 1, maxLength: 36 },
    phone_field: { type: 'string', pattern: '^[a-z0-9_]{1,64}$' },
    campaign_id: { type: 'string', minLength: 1, maxLength: 36 },
    idempotency_key: { type: 'string', minLength: 1, maxLength: 200 },
  },
  dependencies: { parent_type: ['parent_id'], parent_id: ['parent_type'] },
});
const compiled = new Map<number, ValidateFunction>();
/** Compiled on the first send, not at start-up. */
const validatorFor = (maxRecords: number) => {
  let validate = compiled.get(maxRecords);
  if (!validate) compiled.set(maxRecords, (validate = new Ajv({ allErrors: true }).compile(schemaFor(maxRecords))));
  return validate;
};

export function checkRequestShape(input: unknown, maxRecords = MAX_RECIPIENTS): SendRequest {
  const problems: FieldProblem[] = [];
  const validate = validatorFor(maxRecords);
  if (!validate(input)) {
    for (const e of validate.errors ?? []) {
      const field = e.instancePath.replace(/^\//, '').replace(/\//g, '.') || (e.params as { additionalProperty?: string; missingProperty?: string }).additionalProperty || (e.params as { missingProperty?: string }).missingProperty || 'request';
      problems.push({ field, rule: e.keyword, message: e.keyword === 'additionalProperties' ? 'is not a parameter of SMS/send' : e.message ?? 'is invalid' });
    }
  } else {
    const r = input as SendRequest;
    const targets = [r.to !== undefined, r.parent_id !== undefined, r.records !== undefined].filter(Boolean).length;
    if (targets !== 1) problems.push({ field: 'to', rule: 'recipients', message: 'give exactly one of to, parent_type + parent_id, or records' });
    if ((r.body === undefined) === (r.template_id === undefined)) problems.push({ field: 'body', rule: 'content', message: 'give either body or template_id' });
    if (r.body !== undefined) {
      const problem = bodyProblem(r.body);
      if (problem) problems.push({ field: 'body', rule: problem === 'is empty' ? 'required' : 'maxLength', message: problem });
    }
  }
  if (problems.length) throw new ValidationError('SMS', dedupe(problems));
  return input as SendRequest;
}

function dedupe(problems: FieldProblem[]): FieldProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => !seen.has(`${p.field}|${p.message}`) && seen.add(`${p.field}|${p.message}`));
}

export interface ComposeDeps {
  registry: Registry;
  records: RecordService;
  consent: ConsentLedger;
  region: string;
}

/**
 * Turns a send request into one rendered draft per recipient and a reason for every recipient
 * refused (not found, no number, invalid number, opted out, duplicate, template problem).
 */
export async function compose(deps: ComposeDeps, actor: Actor, request: SendRequest): Promise<Composition> {
  const { registry, records } = deps;
  let body = request.body;
  let template: Composition['template'];
  if (request.template_id) {
    const found = await records.retrieve(actor, 'SMSTemplates', request.template_id).catch((err) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    if (!found) throw new ValidationError('SMS', [{ field: 'template_id', rule: 'exists', message: `no SMS template with id '${request.template_id}' (or you may not view it)` }]);
    body = String(found.body ?? '');
    template = { id: found.id, name: String(found.name ?? ''), template_type: String(found.template_type ?? 'transactional') };
  }
  try {
    compileSmsTemplate(body!);
  } catch (err) {
    if (err instanceof TemplateProblem) throw new ValidationError('SMS', [{ field: request.template_id ? 'template_id' : 'body', rule: 'template', message: err.message }]);
    throw err;
  }

  const refused: Refusal[] = [];
  const targets: Array<{ to: string; module?: string; id?: string; name?: string; record?: Record<string, unknown> }> = [];
  const numbers = request.to === undefined ? [] : Array.isArray(request.to) ? request.to : [request.to];
  for (const raw of numbers) {
    const phone = normalisePhone(raw, deps.region);
    if (!phone.ok) refused.push({ to: raw, code: 'invalid_number', reason: `invalid number: ${phone.reason}` });
    else targets.push({ to: phone.e164 });
  }
  const refs = request.parent_id ? [{ module: request.parent_type!, id: request.parent_id }] : request.records ?? [];
  // Which refs name a phone field of a recipient module; their records are read together, one query per module and 500 ids.
  const notRecipient = (ref: { module: string }) => {
    if (!RECIPIENT_MODULES.includes(ref.module) || !registry.modules.has(ref.module)) return `${ref.module} records cannot receive SMS (only ${RECIPIENT_MODULES.join(', ')})`;
    const field = request.phone_field ?? DEFAULT_PHONE_FIELD[ref.module];
    return registry.module(ref.module).fields[field]?.type === 'phone' ? undefined : `${field} is not a phone field of ${ref.module}`;
  };
  const idsByModule = new Map<string, string[]>();
  for (const ref of refs) if (!notRecipient(ref)) idsByModule.set(ref.module, [...(idsByModule.get(ref.module) ?? []), ref.id]);
  const fetched = new Map<string, Map<string, Record<string, unknown>>>();
  for (const [moduleName, ids] of idsByModule) fetched.set(moduleName, await records.retrieveMany(actor, moduleName, ids));
  for (const ref of refs) {
    const notOne = notRecipient(ref);
    if (notOne) {
      refused.push({ ...ref, code: 'not_recipient', reason: notOne });
      continue;
    }
    const module = registry.module(ref.module);
    const field = request.phone_field ?? DEFAULT_PHONE_FIELD[ref.module];
    const record = fetched.get(ref.module)!.get(ref.id.toLowerCase());
    if (!record) {
      refused.push({ ...ref, code: 'not_found', reason: `no ${ref.module} record with id '${ref.id}' (or you may not view it)` });
      continue;
    }
    const name = String(record.name ?? record.id);
    const phone = normalisePhone(record[field], deps.region);
    if (!phone.ok) {
      refused.push({ ...ref, code: phone.reason === 'no phone number' ? 'no_number' : 'invalid_number', reason: phone.reason === 'no phone number' ? `${name} has no ${fieldLabel(registry, ref.module, field)} number` : `${name}: invalid ${fieldLabel(registry, ref.module, field)} number: ${phone.reason}` });
      continue;
    }
    targets.push({ to: phone.e164, module: ref.module, id: ref.id, name, record });
  }

  const seen = new Map<string, string>();
  const unique = targets.filter((t) => {
    const first = seen.get(t.to);
    if (first !== undefined) {
      refused.push({ to: t.to, module: t.module, id: t.id, code: 'duplicate', reason: `duplicate: ${t.to} already receives this message (${first})` });
      return false;
    }
    seen.set(t.to, t.name ?? t.to);
    return true;
  });
  const consent = await deps.consent.states(unique.map((t) => t.to));
  const drafts: Draft[] = [];
  for (const t of unique) {
    const optedOut = consentRefusal(consent.get(t.to));
    if (optedOut) {
      refused.push({ to: t.to, module: t.module, id: t.id, code: 'opted_out', reason: optedOut });
      continue;
    }
    let text: string;
    let emptyFields: string[];
    try {
      ({ text, empty: emptyFields } = await renderWithGaps(registry, records, actor, body!, t.module ? { module: t.module, record: t.record! } : undefined));
    } catch (err) {
      if (!(err instanceof TemplateProblem)) throw err;
      refused.push({ to: t.to, module: t.module, id: t.id, code: 'template', reason: err.message });
      continue;
    }
    const problem = bodyProblem(text);
    if (problem) {
      refused.push({ to: t.to, module: t.module, id: t.id, code: 'body', reason: `the rendered message ${problem}` });
      continue;
    }
    drafts.push({ to: t.to, body: text, facts: encodingAndSegments(text), module: t.module, id: t.id, name: t.name, accountId: typeof t.record?.account_id === 'string' && t.record.account_id ? t.record.account_id : undefined, ...(emptyFields.length ? { emptyFields } : {}) });
  }
  return { drafts, refused, template };
}
