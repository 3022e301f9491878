import type { Knex } from 'knex';
import type { FieldDef, IndexDef } from '../../metadata/types';
import type { TableDef } from '../../metadata/registry-types';
import { decimalShape, isNotNull, physicalType } from '../../metadata/field-types';
import { defaultLiteral, indexColumn, type ColumnInfo, type Dialect } from './dialect';

const q = (identifier: string) => `\`${identifier}\``;

/** Column types as SugarCRM's MysqlManager renders them ($type_map plus default lengths). */
export function mysqlColumnType(field: FieldDef): string {
  const t = physicalType(field);
  const len = field.len === undefined ? undefined : String(field.len);
  switch (t) {
    case 'id': return 'char(36)';
    case 'varchar': case 'enum': case 'relate': case 'url': case 'encrypt': case 'file':
      return `varchar(${len ?? 255})`;
    case 'char': return `char(${len ?? 36})`;
    case 'text': case 'multienum': case 'html': return len ? `text(${len})` : 'text';
    case 'longtext': case 'longhtml': return 'longtext';
    case 'int': return `int(${len ?? 11})`;
    case 'uint': return 'int unsigned';
    case 'long': return 'bigint';
    case 'ulong': return 'bigint unsigned';
    case 'short': return 'smallint';
    case 'tinyint': return 'tinyint';
    case 'double': return 'double';
    case 'float': return 'float';
    case 'decimal': case 'decimal2': case 'currency': {
      const [p, s] = decimalShape(field);
      return `decimal(${p},${s})`;
    }
    case 'bool': return 'tinyint(1)';
    case 'datetimecombo': return 'datetime';
    default: return t;
  }
}

function columnDefinition(field: FieldDef, primary: boolean): string {
  const parts = [q(field.name), mysqlColumnType(field)];
  if (isNotNull(field, primary)) parts.push('NOT NULL');
  const def = defaultLiteral(field, physicalType(field), true);
  if (def !== undefined && !field.auto_increment) parts.push(`DEFAULT ${def}`);
  if (field.auto_increment) parts.push('AUTO_INCREMENT');
  return parts.join(' ');
}

function keyDefinition(index: IndexDef): string {
  const cols = index.fields.map((spec) => {
    const [name, prefix] = indexColumn(spec);
    return prefix ? `${q(name)}(${prefix})` : q(name);
  }).join(', ');
  if (index.type === 'primary') return `PRIMARY KEY (${cols})`;
  if (index.type === 'unique') return `UNIQUE KEY ${q(index.name)} (${cols})`;
  if (index.type === 'fulltext') return `FULLTEXT KEY ${q(index.name)} (${cols})`;
  return `KEY ${q(index.name)} (${cols})`;
}

function primaryColumns(table: TableDef): Set<string> {
  return new Set(table.indices.filter((i) => i.type === 'primary').flatMap((i) => i.fields.map((f) => indexColumn(f)[0])));
}

/** varchar(50) -> ['varchar', 50] */
function sized(type: string): [string, number | undefined] {
  const m = /^(\w+)\((\d+)\)$/.exec(type);
  return m ? [m[1], Number(m[2])] : [type, undefined];
}

export const mysqlDialect: Dialect = {
  name: 'mysql',
  columnType: mysqlColumnType,
  createTable(table) {
    const primary = primaryColumns(table);
    const lines = table.fields.map((f) => columnDefinition(f, primary.has(f.name)));
    lines.push(...table.indices.map(keyDefinition));
    return [`CREATE TABLE ${q(table.name)} (\n  ${lines.join(',\n  ')}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`];
  },
  addColumn(table, field) {
    const key = field.auto_increment ? `, ADD KEY ${q(`idx_${field.name}_auto`)} (${q(field.name)})` : '';
    return [`ALTER TABLE ${q(table.name)} ADD COLUMN ${columnDefinition(field, false)}${key}`];
  },
  createIndex(table, index) {
    return [`ALTER TABLE ${q(table.name)} ADD ${keyDefinition(index)}`];
  },
  widenColumn(table, field, existing) {
    const [wantBase, wantLen] = sized(mysqlColumnType(field));
    const [haveBase, haveLen] = sized(existing.type);
    const widerString = (haveBase === 'varchar' || haveBase === 'char') && wantBase === 'varchar' && wantLen !== undefined && haveLen !== undefined && wantLen > haveLen;
    const textGrowth = haveBase === 'tinytext' && (wantBase === 'text' || wantBase === 'longtext');
    if (!widerString && !textGrowth) return undefined;
    return `ALTER TABLE ${q(table.name)} MODIFY COLUMN ${columnDefinition(field, primaryColumns(table).has(field.name))}`;
  },
  async tables(knex) {
    const rows = await knex('information_schema.tables').select({ name: 'TABLE_NAME' }).whereRaw('table_schema = DATABASE()');
    return new Set(rows.map((r: { name: string }) => r.name));
  },
  async columns(knex, table) {
    const rows = await knex('information_schema.columns')
      .select({ name: 'COLUMN_NAME', type: 'COLUMN_TYPE' })
      .whereRaw('table_schema = DATABASE()')
      .andWhere('TABLE_NAME', table);
    return new Map(rows.map((r: ColumnInfo) => [r.name, { name: r.name, type: String(r.type).toLowerCase() }]));
  },
  async indexes(knex, table) {
    const rows = await knex('information_schema.statistics').distinct({ name: 'INDEX_NAME' }).whereRaw('table_schema = DATABASE()').andWhere('TABLE_NAME', table);
    return new Set(rows.map((r: { name: string }) => (r.name === 'PRIMARY' ? '__primary__' : r.name)));
  },
  indexName: (_table, index) => index,
  concat: (columns) => `TRIM(CONCAT_WS(' ', ${columns.map(q).join(', ')}))`,
  skipLocked: ' FOR UPDATE SKIP LOCKED',
  lockForUpdate: (query) => query.forUpdate() as typeof query,
  isDuplicateKey: (error) => (error as { code?: string }).code === 'ER_DUP_ENTRY',
  isRowRefused: (error) => ROW_REFUSALS.has(String((error as { code?: string }).code)),
  isLockConflict: (error) => ['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT'].includes(String((error as { code?: string }).code)),
};

/** Errors about a row's values; MariaDB names its CHECK failure ER_CONSTRAINT_FAILED, MySQL ER_CHECK_CONSTRAINT_VIOLATED. */
const ROW_REFUSALS = new Set([
  'ER_DUP_ENTRY', 'ER_DATA_TOO_LONG', 'ER_WARN_DATA_OUT_OF_RANGE', 'ER_TRUNCATED_WRONG_VALUE', 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
  'ER_BAD_NULL_ERROR', 'ER_NO_DEFAULT_FOR_FIELD', 'ER_CONSTRAINT_FAILED', 'ER_CHECK_CONSTRAINT_VIOLATED', 'ER_NO_REFERENCED_ROW_2',
]);
