import type { Knex } from 'knex';
import { CaneError } from '../errors';
import type { RecordContext } from './context';

/** One write of a batch, checked and ready: `write` runs inside the batch's transaction, `finish` after the commit. */
export interface PlannedWrite<T> {
  write(trx: Knex.Transaction): Promise<void>;
  finish(): Promise<T>;
}

/** The most writes one call may commit together: more would hold the database's write lock too long. */
export const MAX_BATCH_ENTRIES = 5000;

export interface BatchFailure {
  index: number;
  error: CaneError;
}

export function checkBatchSize(entries: number): void {
  if (entries > MAX_BATCH_ENTRIES) {
    throw new CaneError('invalid_parameter', `At most ${MAX_BATCH_ENTRIES} records can be written in one call, got ${entries}; split the batch`, 422, { limit: MAX_BATCH_ENTRIES, entries });
  }
}

/**
 * Several record writes as one: each is planned (access, before hooks, validation) first, then all
 * are written in one transaction and the after hooks run once it committed, so a crash leaves all
 * or nothing. 'all': the first refusal refuses the batch, naming the entry, and nothing is written.
 * 'each': refused entries are reported and skipped (a savepoint undoes one that fails while
 * writing), the rest commit together.
 */
export async function writeTogether<T>(
  ctx: RecordContext, plans: Array<() => Promise<PlannedWrite<T>>>, mode: 'all' | 'each',
): Promise<{ results: Array<T | undefined>; failures: BatchFailure[] }> {
  checkBatchSize(plans.length);
  const failures: BatchFailure[] = [];
  const refuse = (index: number, err: unknown) => {
    if (!(err instanceof CaneError)) throw err;
    if (mode === 'all') throw new CaneError(err.code, `entry ${index}: ${err.message}`, err.status, { ...err.details, index });
    failures.push({ index, error: err });
  };
  const ready: Array<{ index: number; planned: PlannedWrite<T> }> = [];
  for (const [index, plan] of plans.entries()) {
    try {
      ready.push({ index, planned: await plan() });
    } catch (err) {
      refuse(index, err);
    }
  }
  const written: typeof ready = [];
  await ctx.db.knex.transaction(async (trx) => {
    for (const entry of ready) {
      try {
        if (mode === 'all') await entry.planned.write(trx);
        else await trx.transaction((savepoint) => entry.planned.write(savepoint));
        written.push(entry);
      } catch (err) {
        refuse(entry.index, err);
      }
    }
  });
  const results: Array<T | undefined> = new Array(plans.length).fill(undefined);
  for (const entry of written) results[entry.index] = await entry.planned.finish();
  failures.sort((a, b) => a.index - b.index);
  return { results, failures };
}
