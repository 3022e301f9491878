import type { Knex } from 'knex';
import type { ModuleDef } from '../metadata/registry';
import { perModule } from '../metadata/per-module';

/**
 * Sugar keeps Studio's custom fields in `<table>_cstm`, one row per record keyed by id_c. Every
 * read joins it (LEFT JOIN: a record SuiteCRM saved before the field existed has no row and reads
 * nulls), under the alias `<alias>_cstm`, so `accounts_cstm.foo_c` means the same as in Sugar.
 */
export function customAlias(alias: string): string {
  return `${alias}_cstm`;
}

/** The qualified column of a stored field: `<alias>.<name>`, or `<alias>_cstm.<name>` for a custom field. */
export function fieldColumn(module: ModuleDef, alias: string, name: string): string {
  return module.customColumns.includes(name) ? `${customAlias(alias)}.${name}` : `${alias}.${name}`;
}

/**
 * Adds the LEFT JOIN of the custom table and selects its columns (not id_c), or only `columns` of
 * them, next to what the query selects. Joined even when none is selected: filters and order may name them.
 */
export function joinCustomFields(query: Knex.QueryBuilder, module: ModuleDef, alias = module.table, columns: readonly string[] = module.customColumns): Knex.QueryBuilder {
  if (!module.customTable) return query;
  const c = customAlias(alias);
  return query.leftJoin({ [c]: module.customTable }, `${c}.id_c`, `${alias}.id`).select(columns.map((column) => `${c}.${column}`));
}

/**
 * Rows of the module as records read them: every column of its table and of its custom table, or
 * only `columns` (stored field names) when given.
 */
export function recordRows(knex: Knex, module: ModuleDef, alias = module.table, columns?: readonly string[]): Knex.QueryBuilder {
  const query = alias === module.table ? knex(module.table) : knex({ [alias]: module.table });
  if (!columns) return joinCustomFields(query.select(`${alias}.*`), module, alias);
  const custom = customColumnSet(module);
  query.select(columns.filter((name) => !custom.has(name)).map((name) => `${alias}.${name}`));
  return joinCustomFields(query, module, alias, columns.filter((name) => custom.has(name)));
}

/** Splits a row to write into the module table's part and the custom table's part. */
export function splitRow(module: ModuleDef, row: Record<string, unknown>): { own: Record<string, unknown>; custom: Record<string, unknown> } {
  const own: Record<string, unknown> = {};
  const custom: Record<string, unknown> = {};
  const customColumns = customColumnSet(module);
  for (const [name, value] of Object.entries(row)) (customColumns.has(name) ? custom : own)[name] = value;
  return { own, custom };
}

const customColumnSet = perModule((module) => new Set(module.customColumns));

/** Writes the custom table's row of a record: inserted when missing (new record, or one saved before the fields existed), else updated. */
export async function writeCustomRow(trx: Knex, module: ModuleDef, id: string, values: Record<string, unknown>, creating: boolean): Promise<void> {
  if (!module.customTable || (!creating && !Object.keys(values).length)) return;
  await trx(module.customTable).insert({ id_c: id, ...values }).onConflict('id_c').merge();
}
