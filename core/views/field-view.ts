import type { ModuleDef, Registry } from '../metadata/registry';
import type { FieldDef } from '../metadata/types';
import { isTruthy, maxLength, valueKind } from '../metadata/field-types';
import { utcToZoned } from './time-zone';
import { fieldLabelKeys, findLabel, humanise } from '../metadata/labels';

export type Mode = 'list' | 'detail' | 'edit';

/** Which partial renders a vardef type: themes/<theme>/fields/<partial>/<mode>.hbs. */
export function partialFor(field: FieldDef): string {
  switch (field.type) {
    case 'enum': case 'radioenum': case 'dynamicenum': case 'parent_type': return 'enum';
    case 'multienum': return 'multienum';
    case 'bool': return 'bool';
    case 'date': return 'date';
    case 'datetime': case 'datetimecombo': return 'datetime';
    case 'int': case 'float': case 'double': case 'uint': case 'long': case 'ulong': case 'short': case 'tinyint': return 'number';
    case 'currency': case 'decimal': case 'decimal2': return 'currency';
    case 'text': case 'longtext': case 'html': case 'longhtml': case 'wysiwyg': return 'text';
    case 'url': return 'url';
    case 'email': return field.cane_email === 'all' ? 'emails' : 'email';
    case 'phone': return 'phone';
    case 'relate': return field.source === 'non-db' || field.id_name !== field.name ? 'relate' : 'base';
    case 'parent': return 'parent';
    default: return 'base';
  }
}

export interface Option {
  key: string;
  label: string;
  selected: boolean;
}

/** Rows the e-mail addresses editor offers beyond the record's own addresses. */
const EMPTY_EMAIL_ROWS = 2;

/** Everything a field partial needs; values are plain strings, escaped by the templates. */
export interface FieldView {
  name: string;
  label: string;
  partial: string;
  /** The value as text for display ('' when empty). */
  display: string;
  /** The value as an input wants it. */
  input: string;
  empty: boolean;
  href?: string;
  options?: Option[];
  checked?: boolean;
  /** Lines of a text value, for line breaks without raw HTML. */
  lines?: string[];
  required: boolean;
  readonly: boolean;
  maxLength?: number;
  step?: string;
  error?: string;
  /** Relate: module searched by the type-ahead and the hidden id input. */
  relateModule?: string;
  idName?: string;
  idValue?: string;
  /** Parent: the field holding the parent's module. */
  typeName?: string;
  /** E-mail addresses (the `email` list): one row each, plus empty rows to add more on the form. */
  emails?: Array<{ index: number; address: string; href?: string; primary: boolean; optOut: boolean; invalid: boolean }>;
  parentModules?: Option[];
}

export interface FieldContext {
  registry: Registry;
  module: ModuleDef;
  timeZone: string;
  /** Base path of the UI (e.g. '/ui' or '/crm/ui'). */
  base: string;
}

const money = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function fieldView(ctx: FieldContext, name: string, record: Record<string, unknown>, options: { label?: string; error?: string; readonlyFields?: ReadonlySet<string> } = {}): FieldView {
  const field = ctx.module.fields[name] ?? { name, type: 'varchar' };
  const raw = record[name];
  const kind = valueKind(field);
  const empty = raw === null || raw === undefined || raw === '' || (Array.isArray(raw) && raw.length === 0);
  const labelKeys = fieldLabelKeys(ctx.module, name, options.label);
  const label = findLabel(ctx.registry, ctx.module.name, ...labelKeys) ?? humanise(labelKeys[0] ?? name);
  const view: FieldView = {
    name, label, partial: partialFor(field), display: '', input: '', empty,
    required: isTruthy(field.required) && field.type !== 'id',
    readonly: field.readonly === true || field.readonly === 'true' || Boolean(options.readonlyFields?.has(name)),
    error: options.error,
  };
  const dropdown = field.options ? ctx.registry.dropdown(field.options) : undefined;
  switch (view.partial) {
    case 'enum':
      view.display = empty ? '' : dropdown?.[String(raw)] ?? String(raw);
      view.input = empty ? '' : String(raw);
      view.options = Object.entries(dropdown ?? {}).map(([key, l]) => ({ key, label: l || '\u00a0', selected: key === view.input }));
      break;
    case 'multienum': {
      const values = Array.isArray(raw) ? raw.map(String) : [];
      view.display = values.map((v) => dropdown?.[v] ?? v).join(', ');
      view.options = Object.entries(dropdown ?? {}).filter(([key]) => key !== '').map(([key, l]) => ({ key, label: l, selected: values.includes(key) }));
      break;
    }
    case 'bool':
      view.checked = raw === true;
      view.display = raw === true ? 'Yes' : raw === false ? 'No' : '';
      break;
    case 'datetime':
      view.display = empty ? '' : utcToZoned(String(raw), ctx.timeZone);
      view.input = empty ? '' : view.display.replace(' ', 'T');
      break;
    case 'currency':
      view.display = empty ? '' : `$${money.format(Number(raw))}`;
      view.input = empty ? '' : String(raw);
      view.step = 'any';
      break;
    case 'number':
      view.display = empty ? '' : String(raw);
      view.input = view.display;
      view.step = kind === 'int' ? '1' : 'any';
      break;
    case 'text':
      view.display = empty ? '' : String(raw);
      view.input = view.display;
      view.lines = view.display.split(/\r?\n/);
      break;
    case 'url': {
      view.display = empty ? '' : String(raw);
      view.input = view.display;
      if (!empty) view.href = /^https?:\/\//i.test(view.display) ? view.display : `http://${view.display}`;
      if (view.href && !/^https?:\/\//i.test(view.href)) view.href = undefined;
      break;
    }
    case 'emails': {
      const entries = Array.isArray(raw) ? (raw as Array<Record<string, unknown>>) : [];
      view.emails = entries.map((e, index) => ({
        index, address: String(e.email_address ?? ''), href: `mailto:${String(e.email_address ?? '')}`, primary: e.primary_address === true, optOut: e.opt_out === true, invalid: e.invalid_email === true,
      }));
      for (let i = 0; i < EMPTY_EMAIL_ROWS; i++) view.emails.push({ index: entries.length + i, address: '', primary: entries.length === 0 && i === 0, optOut: false, invalid: false });
      view.display = entries.map((e) => String(e.email_address ?? '')).join(', ');
      break;
    }
    case 'email':
      view.display = empty ? '' : String(raw);
      view.input = view.display;
      if (!empty) view.href = `mailto:${view.display}`;
      break;
    case 'phone':
      view.display = empty ? '' : String(raw);
      view.input = view.display;
      if (!empty) view.href = `tel:${view.display.replace(/[^\d+]/g, '')}`;
      break;
    case 'relate': {
      view.display = empty ? '' : String(raw);
      view.relateModule = field.module;
      view.idName = field.id_name;
      view.idValue = field.id_name ? String(record[field.id_name] ?? '') : '';
      view.input = view.display;
      if (view.idValue && field.module && ctx.registry.modules.has(field.module)) view.href = `${ctx.base}/${field.module}/${encodeURIComponent(view.idValue)}`;
      break;
    }
    case 'parent': {
      view.display = empty ? '' : String(raw);
      const type = field.type_name ? String(record[field.type_name] ?? '') : '';
      const id = field.id_name ? String(record[field.id_name] ?? '') : '';
      view.idName = field.id_name;
      view.idValue = id;
      view.typeName = field.type_name;
      view.relateModule = type;
      if (type && id && ctx.registry.modules.has(type)) view.href = `${ctx.base}/${type}/${encodeURIComponent(id)}`;
      const modules = ctx.registry.dropdown(field.options ?? 'parent_type_display') ?? {};
      view.parentModules = Object.entries(modules).filter(([k]) => ctx.registry.modules.has(k)).map(([key, l]) => ({ key, label: l, selected: key === type }));
      break;
    }
    default:
      view.display = empty ? '' : String(raw);
      view.input = view.display;
  }
  const len = maxLength(field);
  if (len && len < 65535 && view.partial !== 'enum') view.maxLength = len;
  return view;
}
