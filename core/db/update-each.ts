import type { Knex } from 'knex';

export interface RowUpdate {
  id: string;
  values: Record<string, Knex.Value>;
}

/**
 * Several rows, each with its own values, changed by one UPDATE: a column whose value differs
 * between rows becomes `CASE id WHEN … THEN … END`, one shared by all stays a plain value.
 * `where` narrows it further (a compare-and-set on a status, say). Answers the rows changed.
 * Every row must set the same columns, with plain values.
 */
export async function updateEach(knex: Knex, table: string, rows: RowUpdate[], where: (q: Knex.QueryBuilder) => void = () => {}): Promise<number> {
  if (!rows.length) return 0;
  const set: Record<string, unknown> = {};
  for (const column of Object.keys(rows[0].values)) {
    const first = rows[0].values[column];
    if (rows.every((row) => row.values[column] === first)) {
      set[column] = first;
      continue;
    }
    const cases = rows.map(() => 'WHEN ? THEN ?').join(' ');
    const bindings = rows.flatMap((row) => [row.id, row.values[column] ?? null]);
    set[column] = knex.raw(`CASE ?? ${cases} ELSE ?? END`, ['id', ...bindings, column]);
  }
  return knex(table).whereIn('id', rows.map((row) => row.id)).modify(where).update(set);
}
