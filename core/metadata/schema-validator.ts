import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { MetadataError } from '../errors';

export type MetadataKind =
  | 'vardefs' | 'vardefs-overlay' | 'join-table' | 'template' | 'listviewdefs' | 'viewdefs'
  | 'searchdefs' | 'subpaneldefs' | 'mod-strings' | 'app-strings' | 'convertdefs';

/** Compiles the JSON Schemas of metadata/schemas once and checks metadata files against them. */
export class MetadataSchemas {
  private readonly validators = new Map<MetadataKind, ValidateFunction>();

  constructor(schemaDir: string) {
    // The shipped schemas are checked against JSON Schema's meta-schema by a test, not at every start;
    // compiling each $ref once (inlineRefs off) instead of into every place it is used makes start-up
    // compile about three times faster.
    const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, inlineRefs: false });
    for (const file of fs.readdirSync(schemaDir).filter((f) => f.endsWith('.schema.json'))) {
      ajv.addSchema(JSON.parse(fs.readFileSync(path.join(schemaDir, file), 'utf8')));
    }
    const kinds: MetadataKind[] = ['vardefs', 'vardefs-overlay', 'join-table', 'template', 'listviewdefs', 'viewdefs', 'searchdefs', 'subpaneldefs', 'mod-strings', 'app-strings', 'convertdefs'];
    for (const kind of kinds) this.validators.set(kind, ajv.getSchema(`cane:${kind}`)!);
  }

  /** Throws a MetadataError naming the file, the JSON pointer and the rule of the first problems. */
  check(kind: MetadataKind, file: string, data: unknown): void {
    const validate = this.validators.get(kind)!;
    if (validate(data)) return;
    const errors = mostSpecific(validate.errors ?? []);
    const first = errors[0];
    const more = errors.length > 1 ? `; and ${errors.length - 1} more: ${errors.slice(1, 4).map(describe).join('; ')}` : '';
    throw new MetadataError(file, first.instancePath || '/', first.keyword, `${explain(first)}${more}`);
  }
}

/** ajv reports every branch of a failed oneOf/anyOf; the deepest pointer is the useful one. */
function mostSpecific(errors: ErrorObject[]): ErrorObject[] {
  const concrete = errors.filter((e) => !['oneOf', 'anyOf', 'if'].includes(e.keyword));
  const list = concrete.length ? concrete : errors;
  return [...list].sort((a, b) => b.instancePath.split('/').length - a.instancePath.split('/').length);
}

function explain(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return `unknown key '${(e.params as { additionalProperty: string }).additionalProperty}'`;
  if (e.keyword === 'enum') return `${e.message}: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return e.message ?? e.keyword;
}

function describe(e: ErrorObject): string {
  return `${e.instancePath || '/'} ${explain(e)} (${e.keyword})`;
}
