import type { FieldProblem } from '../errors';
import { perModule } from '../metadata/per-module';
import type { ModuleDef } from '../metadata/registry';
import { isStored } from '../metadata/field-types';
import { SYSTEM_FIELDS } from './validate';
import { normalizeInput, type FieldValue } from './values';
import { readEmailInput, type EmailInput } from './email-addresses';

export interface ParsedInput {
  /** Stored fields the caller set, normalized. */
  values: Record<string, FieldValue>;
  /** Related ids set through non-db id fields (Contacts.account_id): link name -> id or null. */
  relateLinks: Record<string, string | null>;
  submitted: Set<string>;
  problems: FieldProblem[];
  /** E-mail addresses set through email1, email2, email, email_opt_out or invalid_email; undefined when none was sent. */
  emails?: EmailInput;
}

/**
 * Sorts caller input into column values and relate links. System fields are ignored (Cane
 * maintains them), computed fields that clients echo back (names, parent_name) are ignored,
 * anything that is not a field is refused.
 */
export function parseInput(module: ModuleDef, input: Record<string, unknown>, isUpdate: boolean): ParsedInput {
  const result: ParsedInput = { values: {}, relateLinks: {}, submitted: new Set(), problems: [] };
  const relateIdFields = relateIdLinks(module);
  for (const [name, raw] of Object.entries(input)) {
    const field = module.fields[name];
    if (!field) {
      result.problems.push({ field: name, rule: 'unknown', message: `is not a field of ${module.name}` });
      continue;
    }
    if (field.type === 'link') {
      result.problems.push({ field: name, rule: 'link', message: 'is a link; relate records through the link operations' });
      continue;
    }
    if (name === 'id' && !isUpdate) {
      if (raw === undefined || raw === null || raw === '') continue;
      if (typeof raw !== 'string' || raw.length > 36 || !/^[A-Za-z0-9_.-]+$/.test(raw)) {
        result.problems.push({ field: 'id', rule: 'id', message: 'must be at most 36 letters, digits, dots, dashes or underscores' });
      } else {
        result.values.id = raw;
      }
      continue;
    }
    if (SYSTEM_FIELDS.has(name) || field.auto_increment) continue;
    if (relateIdFields[name]) {
      if (raw !== null && raw !== '' && typeof raw !== 'string') {
        result.problems.push({ field: name, rule: 'id', message: 'must be a record id' });
      } else {
        result.relateLinks[relateIdFields[name]] = raw ? String(raw) : null;
        result.submitted.add(name);
      }
      continue;
    }
    if (field.cane_email) {
      result.emails ??= { fields: { primary: undefined, secondary: undefined, all: undefined, opt_out: undefined, invalid: undefined } };
      readEmailInput(field, raw, result.emails, result.problems);
      continue;
    }
    if (!isStored(field)) continue;
    const normalized = normalizeInput(field, raw);
    if (!normalized.ok) {
      result.problems.push({ field: name, rule: normalized.rule, message: normalized.message });
      continue;
    }
    result.values[name] = normalized.value;
    result.submitted.add(name);
  }
  return result;
}

/** Non-db id fields a relate field resolves through a link: setting one links the record. */
export const relateIdLinks: (module: ModuleDef) => Readonly<Record<string, string>> = perModule((module) => {
  const map: Record<string, string> = {};
  for (const field of Object.values(module.fields)) {
    if (field.type !== 'relate' || !field.id_name || typeof field.link !== 'string' || !module.links[field.link]) continue;
    const idField = module.fields[field.id_name];
    if (idField && idField.source === 'non-db') map[field.id_name] = field.link;
  }
  return map;
});
