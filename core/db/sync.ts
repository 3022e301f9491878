import type { Registry, TableDef } from '../metadata/registry';
import type { Database } from './connection';
import { existingMetaIds, FIELDS_META_DATA, rowFromField } from './fields-meta-data';
import { formatDateTime } from '../records/time';

export interface SyncStep {
  table: string;
  action: 'create table' | 'add column' | 'widen column' | 'add index' | 'copy custom values' | 'describe custom field';
  detail: string;
  sql: string[];
}

export interface SyncPlan {
  steps: SyncStep[];
  /** Differences sync leaves alone because acting on them could lose data. */
  notes: string[];
}

/**
 * Compares the tables the metadata declares with the database. Additive only: it creates
 * tables, columns and indexes, widens short varchar columns, and never drops or narrows.
 */
export async function planSync(db: Database, registry: Registry): Promise<SyncPlan> {
  const { knex, dialect } = db;
  const existing = await dialect.tables(knex);
  const steps: SyncStep[] = [];
  const notes: string[] = [];
  for (const table of registry.tables) {
    if (!existing.has(table.name)) {
      steps.push({ table: table.name, action: 'create table', detail: `${table.fields.length} columns, ${table.indices.length} indexes`, sql: dialect.createTable(table) });
      if (table.kind === 'custom') steps.push(...(await copyCustomValues(db, registry, table, existing)));
      continue;
    }
    const columns = await dialect.columns(knex, table.name);
    for (const field of table.fields) {
      const column = columns.get(field.name);
      if (!column) {
        steps.push({ table: table.name, action: 'add column', detail: `${field.name} ${dialect.columnType(field)}`, sql: dialect.addColumn(table, field) });
        continue;
      }
      const widen = dialect.widenColumn(table, field, column);
      if (widen) {
        steps.push({ table: table.name, action: 'widen column', detail: `${field.name} ${column.type} -> ${dialect.columnType(field)}`, sql: [widen] });
      } else if (db.dialect.name === 'mysql' && !sameType(column.type, dialect.columnType(field))) {
        notes.push(`${table.name}.${field.name} is ${column.type}; metadata says ${dialect.columnType(field)} (left unchanged)`);
      }
    }
    const indexes = await dialect.indexes(knex, table.name);
    for (const index of table.indices) {
      const name = index.type === 'primary' ? '__primary__' : dialect.indexName(table.name, index.name);
      if (!indexes.has(name) && index.type !== 'primary') {
        steps.push({ table: table.name, action: 'add index', detail: `${index.name} (${index.fields.join(', ')})`, sql: dialect.createIndex(table, index) });
      }
    }
  }
  steps.push(...(await describeCustomFields(db, registry, existing)));
  return { steps, notes };
}

/**
 * Cane kept overlay *_c fields in the module's own table before it kept them in <table>_cstm:
 * a new custom table starts with the values found there (the old columns stay, unused).
 */
async function copyCustomValues(db: Database, registry: Registry, table: TableDef, existing: ReadonlySet<string>): Promise<SyncStep[]> {
  const module = registry.module(table.module!);
  if (!existing.has(module.table)) return [];
  const own = await db.dialect.columns(db.knex, module.table);
  const carried = module.customColumns.filter((c) => own.has(c));
  if (!carried.length) return [];
  const sql = `${db.knex.raw('insert into ?? (??)', [table.name, ['id_c', ...carried]]).toString()} ${db.knex(module.table).select('id', ...carried).toString()}`;
  return [{ table: table.name, action: 'copy custom values', detail: `${carried.join(', ')} from ${module.table}`, sql: [sql] }];
}

/** A fields_meta_data row for every custom field that has none, so SuiteCRM's Studio and vardefs know it. */
async function describeCustomFields(db: Database, registry: Registry, existing: ReadonlySet<string>): Promise<SyncStep[]> {
  if (![...registry.modules.values()].some((m) => m.customTable)) return [];
  const present = await existingMetaIds(db.knex, existing);
  const now = formatDateTime(new Date());
  const steps: SyncStep[] = [];
  for (const module of registry.modules.values()) {
    for (const name of module.customColumns) {
      const row = rowFromField(module, module.fields[name], now);
      if (present.has(String(row.id))) continue;
      steps.push({ table: FIELDS_META_DATA, action: 'describe custom field', detail: `${module.name}.${name}`, sql: [db.knex(FIELDS_META_DATA).insert(row).toString()] });
    }
  }
  return steps;
}

/** MariaDB reports text(100) as tinytext, bool as tinyint(1) and bigint as bigint(20); those are the declared types. */
function sameType(actual: string, declared: string): boolean {
  if (/^text\(\d+\)$/.test(declared)) return actual === 'tinytext' || actual === 'text';
  return actual === declared || (declared === 'tinyint' && actual === 'tinyint(4)') || (declared === 'bigint' && actual === 'bigint(20)') || (declared === 'smallint' && actual === 'smallint(6)');
}

export async function applySync(db: Database, plan: SyncPlan): Promise<void> {
  for (const step of plan.steps) {
    for (const sql of step.sql) await db.knex.raw(sql);
  }
}

/**
 * Plans and applies in one go; returns what it did. Processes starting together on one database
 * (several `cane start` on a new schema) take turns: the changes are planned again and applied
 * under a lock shared by all of them, so the second finds the first one's tables.
 */
export async function syncSchema(db: Database, registry: Registry): Promise<SyncPlan> {
  const plan = await planSync(db, registry);
  if (!plan.steps.length) return plan;
  return withSchemaLock(db, async (locked) => {
    const fresh = await planSync(locked, registry);
    await applySync(locked, fresh);
    return fresh;
  });
}

const LOCK_NAME = 'cane_schema_sync';
const LOCK_SECONDS = 120;
/** MySQL's named locks are server-wide: the name carries the database's, so installations sharing a server do not wait for each other. */
export const MYSQL_SCHEMA_LOCK = `CONCAT('${LOCK_NAME}_', MD5(DATABASE()))`;

async function withSchemaLock<T>(db: Database, work: (locked: Database) => Promise<T>): Promise<T> {
  if (db.dialect.name === 'mysql') {
    // A named lock belongs to a session: take and release it on one connection of the pool.
    const connection = await db.knex.client.acquireConnection();
    try {
      const [rows] = await db.knex.raw(`SELECT GET_LOCK(${MYSQL_SCHEMA_LOCK}, ?) AS got`, [LOCK_SECONDS]).connection(connection);
      if (Number(rows?.[0]?.got) !== 1) throw new Error(`another process held the schema lock for ${LOCK_SECONDS} s; is a schema change stuck?`);
      try {
        return await work(db);
      } finally {
        await db.knex.raw(`SELECT RELEASE_LOCK(${MYSQL_SCHEMA_LOCK})`).connection(connection);
      }
    } finally {
      await db.knex.client.releaseConnection(connection);
    }
  }
  // SQLite: a write on a lock table holds the database's one write lock until the sync commits
  // (SQLite's DDL is transactional, so the whole sync runs in that transaction); other processes
  // wait for it in busy_timeout.
  await db.knex.raw(`CREATE TABLE IF NOT EXISTS ${LOCK_NAME} (holder integer)`);
  return db.knex.transaction(async (trx) => {
    await trx.raw(`DELETE FROM ${LOCK_NAME}`);
    return work({ ...db, knex: trx });
  });
}

export function formatPlan(plan: SyncPlan): string {
  if (!plan.steps.length && !plan.notes.length) return 'Schema is up to date.';
  const lines = plan.steps.map((s) => `-- ${s.action} ${s.table}: ${s.detail}\n${s.sql.map((q) => `${q};`).join('\n')}`);
  lines.push(...plan.notes.map((n) => `-- note: ${n}`));
  return lines.join('\n\n');
}

export type { TableDef };
