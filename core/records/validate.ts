import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FieldProblem } from '../errors';
import type { ModuleDef, Registry } from '../metadata/registry';
import type { FieldDef } from '../metadata/types';
import { isTruthy, maxLength, physicalType, valueKind } from '../metadata/field-types';
import type { FieldValue } from './values';
import { perModule } from '../metadata/per-module';

/** Fields Cane maintains itself; callers cannot be required to send them. */
export const SYSTEM_FIELDS = new Set(['id', 'date_entered', 'date_modified', 'created_by', 'modified_user_id', 'deleted']);

/** The stored fields a record must have a value in (Cane's own system fields excepted). */
const requiredFields = perModule((module) => Object.entries(module.fields)
  .filter(([name, field]) => isTruthy(field.required) && !SYSTEM_FIELDS.has(name) && !field.auto_increment && field.source !== 'non-db')
  .map(([name]) => name));

/**
 * Checks a record against its vardefs: required, len, dropdown options, numeric ranges and
 * e-mail/url formats. Phone fields hold any text, as in Sugar ("Work-Custom"); the SMS layer reads
 * numbers out of them and refuses at send time. The constraints are compiled once per module into
 * a JSON Schema (ajv, allErrors) so every failing field is reported in one go.
 */
export class RecordValidator {
  private ajvInstance: Ajv | undefined;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly registry: Registry) {}

  /** Made on the first save, not at start-up. */
  private get ajv(): Ajv {
    if (!this.ajvInstance) {
      this.ajvInstance = new Ajv({ allErrors: true, strict: false });
      addFormats(this.ajvInstance, ['email']);
      this.ajvInstance.addFormat('sugar-url', /^(?:[a-z][a-z0-9+.-]*:\/\/)?[^\s/?#]+\.[^\s]+$|^(?:https?:\/\/)[^\s]+$/i);
    }
    return this.ajvInstance;
  }

  validate(module: ModuleDef, values: Record<string, FieldValue>, isUpdate: boolean, submitted: ReadonlySet<string>): FieldProblem[] {
    const problems: FieldProblem[] = [];
    for (const name of requiredFields(module)) {
      if (isUpdate && !submitted.has(name)) continue;
      const v = values[name];
      if (v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) {
        problems.push({ field: name, rule: 'required', message: 'is required' });
      }
    }
    const validate = this.schemaFor(module);
    const present = Object.fromEntries(Object.entries(values).filter(([k, v]) => v !== null && v !== '' && (!isUpdate || submitted.has(k))));
    if (!validate(present)) {
      const seen = new Set(problems.map((p) => p.field));
      for (const error of validate.errors ?? []) {
        const problem = this.describe(module, error, present);
        if (problem && !seen.has(problem.field)) {
          seen.add(problem.field);
          problems.push(problem);
        }
      }
    }
    return problems;
  }

  private schemaFor(module: ModuleDef): ValidateFunction {
    const cached = this.compiled.get(module.name);
    if (cached) return cached;
    const properties: Record<string, object> = {};
    for (const [name, field] of Object.entries(module.fields)) {
      const schema = this.fieldSchema(field);
      if (schema) properties[name] = schema;
    }
    const validate = this.ajv.compile({ type: 'object', properties });
    this.compiled.set(module.name, validate);
    return validate;
  }

  private fieldSchema(field: FieldDef): object | undefined {
    const kind = valueKind(field);
    const options = field.options ? this.registry.dropdown(field.options) : undefined;
    const range = rangeOf(field);
    switch (kind) {
      case 'enum':
        return options ? { enum: Object.keys(options) } : { type: 'string', maxLength: maxLength(field) };
      case 'multienum':
        return { type: 'array', items: options ? { enum: Object.keys(options) } : { type: 'string' } };
      case 'int': case 'float':
        return { type: 'number', ...(range.min !== undefined ? { minimum: range.min } : {}), ...(range.max !== undefined ? { maximum: range.max } : {}) };
      case 'string': case 'text': {
        const schema: Record<string, unknown> = { type: 'string' };
        const len = maxLength(field);
        if (len !== undefined && physicalType(field) !== 'longtext') schema.maxLength = len;
        if (field.type === 'email') schema.format = 'email';
        if (field.type === 'url') schema.format = 'sugar-url';
        return schema;
      }
      default:
        return undefined;
    }
  }

  private describe(module: ModuleDef, error: ErrorObject, values: Record<string, unknown>): FieldProblem | undefined {
    const field = error.instancePath.split('/')[1];
    if (!field) return undefined;
    const def = module.fields[field];
    const value = values[field];
    switch (error.keyword) {
      case 'maxLength':
        return { field, rule: 'len', message: `is ${String(value).length} characters long; the limit is ${(error.params as { limit: number }).limit}` };
      case 'enum': {
        const item = error.instancePath.split('/')[2];
        const bad = item === undefined ? value : (value as unknown[])[Number(item)];
        return { field, rule: valueKind(def) === 'multienum' ? 'multienum' : 'enum', message: `'${String(bad)}' is not an option of ${def.options}` };
      }
      case 'minimum': case 'maximum': {
        const range = rangeOf(def);
        return { field, rule: 'range', message: `must be between ${range.min ?? '-∞'} and ${range.max ?? '∞'}, got ${String(value)}` };
      }
      case 'format': {
        const format = (error.params as { format: string }).format;
        const rule = format === 'sugar-url' ? 'url' : format;
        return { field, rule, message: `'${String(value)}' is not a valid ${rule === 'url' ? 'URL' : 'e-mail address'}` };
      }
      default:
        return { field, rule: error.keyword, message: error.message ?? 'is invalid' };
    }
  }
}

function rangeOf(field: FieldDef): { min?: number; max?: number } {
  const num = (v: unknown) => (v === undefined || v === '' ? undefined : Number(v));
  if (field.validation?.type === 'range') return { min: num(field.validation.min), max: num(field.validation.max) };
  return { min: num(field.min), max: num(field.max) };
}
