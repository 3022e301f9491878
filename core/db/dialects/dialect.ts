import type { Knex } from 'knex';
import type { FieldDef, IndexDef } from '../../metadata/types';
import type { TableDef } from '../../metadata/registry-types';

export interface ColumnInfo {
  name: string;
  /** Declared type as the database reports it, lower-case (e.g. 'varchar(150)'). */
  type: string;
}

/** Everything that differs between SQLite and MySQL/MariaDB lives behind this interface. */
export interface Dialect {
  readonly name: 'sqlite' | 'mysql';
  /** The column definition (without the name) for a vardef field. */
  columnType(field: FieldDef): string;
  createTable(table: TableDef): string[];
  addColumn(table: TableDef, field: FieldDef): string[];
  createIndex(table: TableDef, index: IndexDef): string[];
  /** The SQL that widens a column, or undefined when the existing column already fits or cannot be widened safely. */
  widenColumn(table: TableDef, field: FieldDef, existing: ColumnInfo): string | undefined;
  tables(knex: Knex): Promise<Set<string>>;
  columns(knex: Knex, table: string): Promise<Map<string, ColumnInfo>>;
  indexes(knex: Knex, table: string): Promise<Set<string>>;
  /** Name of an index in this database (SQLite index names are global, so they carry the table). */
  indexName(table: string, index: string): string;
  /** SQL concatenating columns with single spaces, skipping NULLs. */
  concat(columns: string[]): string;
  /** Suffix for a claim query that skips rows other workers hold, or '' when the dialect has one writer. */
  readonly skipLocked: string;
  /** Makes a read inside a transaction hold the rows until commit (FOR UPDATE); SQLite has one writer, so reads as is. */
  lockForUpdate<T extends Knex.QueryBuilder>(query: T): T;
  isDuplicateKey(error: unknown): boolean;
  /** The database refused a row for its values (a duplicate key, a value too long or out of range, a NOT NULL or CHECK constraint): the row is wrong, not the database. */
  isRowRefused(error: unknown): boolean;
  /** The database gave up on the statement for another transaction's locks (a deadlock, a busy database); running it again is safe. */
  isLockConflict(error: unknown): boolean;
  /**
   * A text match the database's LIKE cannot do right, or undefined to use LIKE: SQLite's LIKE ends a
   * pattern at its first NUL character (so '%\0%' matched every row). `col` is a quoted column.
   */
  textMatch?(op: '$starts' | '$ends' | '$contains' | '$not_contains', col: string, value: string): { sql: string; bindings: string[] } | undefined;
}

export function quoteString(value: string, backslashes: boolean): string {
  const escaped = value.replace(/'/g, "''");
  return `'${backslashes ? escaped.replace(/\\/g, '\\\\') : escaped}'`;
}

/** DEFAULT literal for a vardef default, or undefined when Sugar would not emit one. */
export function defaultLiteral(field: FieldDef, physical: string, backslashes: boolean): string | undefined {
  // As Sugar's DBManager: an empty default is no DEFAULT clause at all.
  if (field.default === undefined || field.default === null || field.default === '') return undefined;
  if (['text', 'longtext', 'multienum', 'html', 'longhtml', 'blob', 'longblob'].includes(physical)) return undefined;
  const value = field.default;
  if (physical === 'bool') return value === true || value === '1' || value === 1 || value === 'true' ? '1' : '0';
  if (['int', 'uint', 'long', 'ulong', 'short', 'tinyint', 'double', 'float', 'decimal', 'decimal2', 'currency'].includes(physical)) {
    const n = Number(value);
    if (Number.isFinite(n)) return String(n);
  }
  return quoteString(String(value), backslashes);
}

/** 'last_name (30)' -> ['last_name', 30] */
export function indexColumn(spec: string): [string, number | undefined] {
  const m = /^([A-Za-z0-9_]+) ?(?:\((\d+)\))?$/.exec(spec)!;
  return [m[1], m[2] ? Number(m[2]) : undefined];
}
