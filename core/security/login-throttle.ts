import type { Database } from '../db/connection';
import { CaneError } from '../errors';
import { dateFromDb, formatDateTime, type Clock } from '../records/time';
import type { LoginPolicy } from './login-policy';

const TABLE = 'cane_login_throttle';
/** Expired rows removed with each new row, so the table holds about one window's worth of names and addresses. */
const PURGE_BATCH = 20;

export type ThrottleKind = 'user' | 'address';

/** A login refused before the password is looked at: the account or address has used its attempts. */
export class TooManyLoginsError extends CaneError {
  constructor(readonly kind: ThrottleKind, readonly retryAfter: number, inFlight = false) {
    super('too_many_requests', inFlight
      ? `Too many login attempts for this user at once; try again in ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`
      : `Too many failed login attempts ${kind === 'user' ? 'for this user' : 'from this address'}; try again in ${retryAfter} seconds.`,
    429, { retryAfter, scope: kind });
  }
}

/** An attempt slot taken before the password is checked; exactly one of these ends it. */
export interface LoginSlot {
  failed(): Promise<void>;
  /** Clears the account's failures (the address keeps its own). */
  succeeded(): Promise<void>;
  /** The check could not finish (an error): the attempt counts for nothing. */
  abandoned(): Promise<void>;
}

export interface LoginLock {
  kind: ThrottleKind;
  /** The user name or address. */
  subject: string;
  failures: number;
  /** When the window ends (UTC 'Y-m-d H:i:s'). */
  until: string;
  /** The address of the latest failure. */
  lastAddress: string | null;
}

interface Row { subject: string; failures: number | string; pending: number | string; window_start: string; last_address: string | null }

const keyOf = (kind: ThrottleKind, subject: string) => (kind === 'user' ? `user:${subject}` : `ip:${subject}`).slice(0, 190);
const decrement = 'CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END';

/**
 * Caps failed logins per user name and per address over a window, in the database so every process
 * shares the count. An attempt first takes a slot with one conditional UPDATE (failures plus attempts
 * still being checked must stay under the cap), so N parallel guesses cannot all pass before the
 * first failure is written; a refusal is immediate, never a sleep.
 */
export class LoginThrottle {
  constructor(private readonly db: Database, private readonly clock: Clock, readonly policy: LoginPolicy) {}

  /** Takes a slot for the account and, when known, the address; throws TooManyLoginsError when either is used up. */
  async reserve(userName: string, ip: string | null): Promise<LoginSlot> {
    const account = keyOf('user', userName);
    const address = ip ? keyOf('address', ip) : undefined;
    await this.take(account, 'user', this.policy.maxAccountFailures);
    if (address) {
      try {
        await this.take(address, 'address', this.policy.maxAddressFailures);
      } catch (err) {
        await this.release(account);
        throw err;
      }
    }
    const both = (fn: (key: string) => Promise<unknown>) => Promise.all([account, address].filter((k): k is string => !!k).map(fn)).then(() => undefined);
    return {
      failed: () => both((key) => this.db.knex(TABLE).where('subject', key).update({ failures: this.db.knex.raw('failures + 1'), pending: this.db.knex.raw(decrement), last_address: ip })),
      succeeded: async () => {
        await this.db.knex(TABLE).where('subject', account).update({ failures: 0, pending: this.db.knex.raw(decrement), window_start: this.now() });
        if (address) await this.release(address);
      },
      abandoned: () => both((key) => this.release(key)),
    };
  }

  /** Accounts and addresses locked now (with `all`, every one with failures in its window). */
  async locks(all = false): Promise<LoginLock[]> {
    const rows: Row[] = await this.db.knex(TABLE).where('window_start', '>', this.cutoff()).andWhere('failures', '>', 0).orderBy('window_start').orderBy('subject');
    return rows
      .map((row) => {
        const kind: ThrottleKind = row.subject.startsWith('user:') ? 'user' : 'address';
        return { kind, subject: row.subject.slice(row.subject.indexOf(':') + 1), failures: Number(row.failures), until: formatDateTime(this.windowEnd(row)), lastAddress: row.last_address };
      })
      .filter((lock) => all || lock.failures >= (lock.kind === 'user' ? this.policy.maxAccountFailures : this.policy.maxAddressFailures));
  }

  /** Forgets the failures of a user name or address; false when there were none to forget. */
  async unlock(kind: ThrottleKind, subject: string): Promise<boolean> {
    return (await this.db.knex(TABLE).where('subject', keyOf(kind, subject)).andWhere('failures', '>', 0).delete()) > 0;
  }

  private async take(key: string, kind: ThrottleKind, max: number): Promise<void> {
    const { knex } = this.db;
    const now = this.now();
    const cut = this.cutoff();
    // A few rounds at most: between the statements another process may insert, reset or purge the row.
    for (let round = 0; round < 3; round++) {
      // MySQL assigns left to right, each expression seeing the columns already set: window_start goes last.
      const taken = await knex(TABLE)
        .where('subject', key)
        .andWhere((q) => q.where('window_start', '<=', cut).orWhereRaw('failures + pending < ?', [max]))
        .update({
          failures: knex.raw('CASE WHEN window_start <= ? THEN 0 ELSE failures END', [cut]),
          pending: knex.raw('CASE WHEN window_start <= ? THEN 1 ELSE pending + 1 END', [cut]),
          window_start: knex.raw('CASE WHEN window_start <= ? THEN ? ELSE window_start END', [cut, now]),
        });
      if (taken) return;
      const row: Row | undefined = await knex(TABLE).where('subject', key).first();
      if (row) {
        if (row.window_start > cut && Number(row.failures) + Number(row.pending) >= max) throw this.refusal(row, kind, max);
        continue;
      }
      try {
        await knex(TABLE).insert({ subject: key, failures: 0, pending: 1, window_start: now });
        await this.purgeExpired(cut);
        return;
      } catch (err) {
        if (!this.db.dialect.isDuplicateKey(err)) throw err;
      }
    }
    throw new TooManyLoginsError(kind, 1, true);
  }

  private refusal(row: Row, kind: ThrottleKind, max: number): TooManyLoginsError {
    // Under the cap on failures alone, the rest are attempts being checked right now: worth retrying at once.
    if (Number(row.failures) < max) return new TooManyLoginsError(kind, 1, true);
    return new TooManyLoginsError(kind, Math.max(1, Math.ceil((this.windowEnd(row).getTime() - this.clock().getTime()) / 1000)));
  }

  private async release(key: string) {
    await this.db.knex(TABLE).where('subject', key).update({ pending: this.db.knex.raw(decrement) });
  }

  private async purgeExpired(cut: string) {
    try {
      const stale = await this.db.knex(TABLE).where('window_start', '<=', cut).limit(PURGE_BATCH).pluck('subject');
      if (stale.length) await this.db.knex(TABLE).whereIn('subject', stale).andWhere('window_start', '<=', cut).delete();
    } catch {
      // Housekeeping only; the next new row tries again.
    }
  }

  private windowEnd(row: Row): Date {
    return new Date(dateFromDb(row.window_start).getTime() + this.policy.windowSeconds * 1000);
  }

  private now() {
    return formatDateTime(this.clock());
  }

  private cutoff() {
    return formatDateTime(new Date(this.clock().getTime() - this.policy.windowSeconds * 1000));
  }
}
