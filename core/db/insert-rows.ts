import type { Knex } from 'knex';

/** Parameters per statement: under SQLite's 32,766 and MySQL's 65,535. */
const MAX_PARAMETERS = 20_000;

/**
 * Inserts rows with many-row INSERTs, as few as the databases' statement limits allow. Rows that
 * share their columns (the bulk paths' rows do) are written as one `INSERT … VALUES (…), (…)` whose
 * text is the same for every full chunk, so SQLite keeps it prepared; knex's builder would sort and
 * quote every row's keys again and write SQLite's insert as a SELECT … UNION ALL of each row. Rows
 * whose columns differ, or that leave a value undefined (the column's default), go through knex.
 */
export async function insertRows(knex: Knex, table: string, rows: Array<Record<string, unknown>>): Promise<void> {
  if (!rows.length) return;
  const columns = Object.keys(rows[0]);
  const size = Math.max(1, Math.floor(MAX_PARAMETERS / Math.max(1, columns.length)));
  if (!columns.length || !rows.every((row) => sameColumns(row, columns))) {
    for (let i = 0; i < rows.length; i += Math.min(size, 500)) await knex(table).insert(rows.slice(i, i + Math.min(size, 500)));
    return;
  }
  for (let i = 0; i < rows.length; i += size) {
    const chunk = rows.slice(i, i + size);
    const bindings: Knex.RawBinding[] = [];
    for (const row of chunk) for (const column of columns) bindings.push(row[column] as Knex.RawBinding);
    await knex.raw(insertSql(table, columns, chunk.length), bindings);
  }
}

function sameColumns(row: Record<string, unknown>, columns: string[]): boolean {
  let count = 0;
  for (const key in row) {
    if (row[key] === undefined) return false;
    count++;
  }
  return count === columns.length && columns.every((column) => column in row);
}

const quote = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/** The statement's text, kept per table, columns and row count (a bulk write repeats the same few). */
const statements = new Map<string, string>();

function insertSql(table: string, columns: string[], rowCount: number): string {
  const key = `${table}\u0000${columns.join('\u0000')}\u0000${rowCount}`;
  let sql = statements.get(key);
  if (!sql) {
    const row = `(${columns.map(() => '?').join(', ')})`;
    sql = `insert into ${quote(table)} (${columns.map(quote).join(', ')}) values ${Array.from({ length: rowCount }, () => row).join(', ')}`;
    if (statements.size > 200) statements.clear();
    statements.set(key, sql);
  }
  return sql;
}
