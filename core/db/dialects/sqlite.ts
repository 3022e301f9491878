import type { Knex } from 'knex';
import type { FieldDef, IndexDef } from '../../metadata/types';
import type { TableDef } from '../../metadata/registry-types';
import { isNotNull, physicalType } from '../../metadata/field-types';
import { mysqlColumnType } from './mysql';
import { defaultLiteral, indexColumn, type ColumnInfo, type Dialect } from './dialect';

const q = (identifier: string) => `"${identifier}"`;

/**
 * SQLite keeps the MySQL type names (they give the right affinities: int(11) -> INTEGER,
 * double -> REAL, varchar -> TEXT), with NOCASE text so comparisons behave like MySQL's
 * *_general_ci collation.
 */
function columnDefinition(field: FieldDef, primary: boolean): string {
  const type = mysqlColumnType(field);
  const parts = [q(field.name), type.replace(/ unsigned$/, '')];
  if (/char|text/.test(type)) parts.push('COLLATE NOCASE');
  if (isNotNull(field, primary) && !field.auto_increment) parts.push('NOT NULL');
  const def = defaultLiteral(field, physicalType(field), false);
  if (def !== undefined && !field.auto_increment) parts.push(`DEFAULT ${def}`);
  return parts.join(' ');
}

/** SQLite has AUTOINCREMENT only on the rowid primary key: number other auto_increment columns in a trigger. */
function autoIncrementTrigger(table: string, column: string): string {
  return `CREATE TRIGGER IF NOT EXISTS ${q(`${table}__${column}__auto`)} AFTER INSERT ON ${q(table)} WHEN NEW.${q(column)} IS NULL BEGIN ` +
    `UPDATE ${q(table)} SET ${q(column)} = (SELECT COALESCE(MAX(${q(column)}), 0) + 1 FROM ${q(table)}) WHERE rowid = NEW.rowid; END`;
}

function indexName(table: string, index: string) {
  return `${table}__${index}`;
}

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  columnType: (field) => mysqlColumnType(field),
  createTable(table) {
    const primary = table.indices.find((i) => i.type === 'primary');
    const primaryCols = new Set(primary?.fields.map((f) => indexColumn(f)[0]) ?? []);
    const lines = table.fields.map((f) => columnDefinition(f, primaryCols.has(f.name)));
    if (primary) lines.push(`PRIMARY KEY (${[...primaryCols].map(q).join(', ')})`);
    const statements = [`CREATE TABLE ${q(table.name)} (\n  ${lines.join(',\n  ')}\n)`];
    for (const index of table.indices) if (index.type !== 'primary') statements.push(...sqliteDialect.createIndex(table, index));
    for (const f of table.fields) if (f.auto_increment) statements.push(autoIncrementTrigger(table.name, f.name));
    return statements;
  },
  addColumn(table, field) {
    const statements = [`ALTER TABLE ${q(table.name)} ADD COLUMN ${columnDefinition(field, false)}`];
    if (field.auto_increment) statements.push(autoIncrementTrigger(table.name, field.name));
    return statements;
  },
  createIndex(table, index) {
    if (index.type === 'primary') return [];
    const unique = index.type === 'unique' ? 'UNIQUE ' : '';
    const cols = index.fields.map((f) => q(indexColumn(f)[0])).join(', ');
    return [`CREATE ${unique}INDEX ${q(indexName(table.name, index.name))} ON ${q(table.name)} (${cols})`];
  },
  // SQLite does not enforce declared lengths, so there is never anything to widen.
  widenColumn: () => undefined,
  async tables(knex) {
    const rows = await knex('sqlite_master').select('name').where('type', 'table');
    return new Set(rows.map((r: { name: string }) => r.name));
  },
  async columns(knex, table) {
    const rows: Array<{ name: string; type: string }> = await knex.raw(`PRAGMA table_info(${q(table)})`);
    return new Map(rows.map((r) => [r.name, { name: r.name, type: r.type.toLowerCase() } satisfies ColumnInfo]));
  },
  async indexes(knex, table) {
    const rows: Array<{ name: string; origin: string }> = await knex.raw(`PRAGMA index_list(${q(table)})`);
    const names = new Set(rows.map((r) => (r.origin === 'pk' ? '__primary__' : r.name)));
    return names;
  },
  indexName,
  // An expression loses its columns' collation; NOCASE keeps name comparisons case-insensitive.
  concat: (columns) => `(TRIM(${columns.map((c) => `COALESCE(${q(c)}, '')`).join(` || ' ' || `)}) COLLATE NOCASE)`,
  skipLocked: '',
  lockForUpdate: (query) => query,
  isDuplicateKey: (error) => /UNIQUE constraint failed/.test(String((error as Error).message)),
  isRowRefused: (error) => /^SQLITE_(CONSTRAINT|TOOBIG|MISMATCH)/.test(String((error as { code?: string }).code ?? '')),
  isLockConflict: (error) => String((error as { code?: string }).code ?? '').startsWith('SQLITE_BUSY'),
  // Values with a NUL: compare the bytes (lower-cased, as LIKE ignores ASCII case), which instr and
  // substr on BLOBs do in full where LIKE and length() stop at the NUL.
  textMatch: (op, col, value) => {
    if (!value.includes('\u0000')) return undefined;
    const c = `CAST(LOWER(${col}) AS BLOB)`;
    const v = 'CAST(LOWER(?) AS BLOB)';
    switch (op) {
      case '$contains': return { sql: `INSTR(${c}, ${v}) > 0`, bindings: [value] };
      case '$not_contains': return { sql: `(${col} IS NULL OR INSTR(${c}, ${v}) = 0)`, bindings: [value] };
      case '$starts': return { sql: `SUBSTR(${c}, 1, LENGTH(${v})) = ${v}`, bindings: [value, value] };
      case '$ends': return { sql: `SUBSTR(${c}, -LENGTH(${v})) = ${v}`, bindings: [value, value] };
    }
  },
};
