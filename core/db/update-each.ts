import type { Knex } from 'knex';

export interface RowUpdate {
  id: string;
  values: Record<string, unknown>;
}

/**
 * Several rows, each with its own values, changed by one UPDATE: a column whose value differs
 * between rows becomes `CASE id WHEN … THEN … END`, one shared by all stays a plain value.
 * `where` narrows it further (a compare-and-set on a status, say). Answers the rows changed.
 * Every row must set the same columns; values may be knex.raw expressions.
 */
export async function updateEach(knex: Knex, table: string, rows: RowUpdate[], where: (q: Knex.QueryBuilder) => void = () => {}): Promise<number> {
  if (!rows.length) return 0;
  const columns = Object.keys(rows[0].values);
  const set: Record<string, unknown> = {};
  for (const column of columns) {
    const first = rows[0].values[column];
    const shared = rows.every((row) => sameValue(row.values[column], first));
    if (shared) {
      set[column] = first;
      continue;
    }
    if (rows.some((row) => isRaw(row.values[column]))) throw new Error(`updateEach: '${column}' differs between rows and is an SQL expression in some; give plain values`);
    const cases = rows.map(() => 'WHEN ? THEN ?').join(' ');
    const bindings = rows.flatMap((row) => [row.id, (row.values[column] ?? null) as Knex.Value]);
    set[column] = knex.raw(`CASE ?? ${cases} ELSE ?? END`, ['id', ...bindings, column]);
  }
  return knex(table).whereIn('id', rows.map((row) => row.id)).modify(where).update(set);
}

function isRaw(value: unknown): boolean {
  return !!value && typeof value === 'object' && 'sql' in value;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // knex.raw values are compared by their SQL and bindings.
  if (isRaw(a) && isRaw(b)) {
    return (a as { sql: string }).sql === (b as { sql: string }).sql && JSON.stringify((a as { bindings?: unknown }).bindings) === JSON.stringify((b as { bindings?: unknown }).bindings);
  }
  return false;
}
