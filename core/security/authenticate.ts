import crypto from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { Database } from '../db/connection';
import { CaneError } from '../errors';
import type { Actor } from '../records/actor';
import { formatDateTime, type Clock } from '../records/time';
import { md5Hex, verifyPassword } from './passwords';

export interface LoginPolicy {
  /** Failures within this window count towards the slow-down. */
  windowSeconds: number;
  /** Delay before answering after n recent failures: base * 2^(n-1), capped. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_LOGIN_POLICY: LoginPolicy = { windowSeconds: 900, baseDelayMs: 200, maxDelayMs: 5000 };

/** A failed login. The message never says whether the user exists. */
export class LoginError extends CaneError {
  constructor(readonly reason: 'credentials' | 'inactive') {
    super('need_login', reason === 'inactive' ? 'This user is not active and cannot log in.' : 'You must specify a valid username and password.', 401, { reason });
  }
}

export interface UserRow {
  id: string;
  user_name: string;
  user_hash: string | null;
  is_admin: number | boolean;
  status: string | null;
  [column: string]: unknown;
}

// A real bcrypt hash to compare against when the user does not exist, so timing does not tell.
const DUMMY_HASH = bcrypt.hashSync('cane-dummy', 10);

/**
 * Checks user name and password against Sugar's users table. Every attempt is recorded in
 * cane_login_attempts; recent failures for the same user name or address delay the answer
 * exponentially, whichever process handles the next attempt.
 */
export class Authenticator {
  /** Called after a successful login (the audit trail listens here). */
  onLogin: ((user: UserRow, ip: string | null) => Promise<void>) | undefined;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly policy: LoginPolicy = DEFAULT_LOGIN_POLICY,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** `password` is the plaintext, or with `isMd5` its lower-case MD5 hex (v4_1). */
  async login(userName: string, password: string, options: { isMd5?: boolean; ip?: string } = {}): Promise<UserRow> {
    const ip = options.ip ?? null;
    const failures = await this.recentFailures(userName, ip);
    if (failures > 0) await this.sleep(Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (failures - 1)));
    const user: UserRow | undefined = userName ? await this.db.knex('users').where({ user_name: userName, deleted: 0 }).first() : undefined;
    const md5 = options.isMd5 ? password.toLowerCase() : md5Hex(password);
    const ok = user ? await verifyPassword(md5, user.user_hash) : (await bcrypt.compare(md5, DUMMY_HASH), false);
    if (!user || !ok) {
      await this.record(userName, ip, false);
      throw new LoginError('credentials');
    }
    if (!canLogIn(user)) {
      await this.record(userName, ip, false);
      throw new LoginError('inactive');
    }
    await this.record(userName, ip, true);
    await this.onLogin?.(user, ip);
    return user;
  }

  private async recentFailures(userName: string, ip: string | null): Promise<number> {
    const since = formatDateTime(new Date(this.clock().getTime() - this.policy.windowSeconds * 1000));
    const lastSuccess = await this.db.knex('cane_login_attempts').where({ user_name: userName, succeeded: 1 }).andWhere('date_entered', '>=', since).max({ at: 'date_entered' }).first();
    const from = lastSuccess?.at ? String(lastSuccess.at) : since;
    const row = await this.db.knex('cane_login_attempts')
      .where({ succeeded: 0 })
      .andWhere('date_entered', '>', from)
      .andWhere((q) => { q.where('user_name', userName); if (ip) q.orWhere('ip_address', ip); })
      .count({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }

  private async record(userName: string, ip: string | null, succeeded: boolean) {
    await this.db.knex('cane_login_attempts').insert({
      id: crypto.randomUUID(), user_name: userName.slice(0, 60), ip_address: ip, succeeded: succeeded ? 1 : 0, date_entered: formatDateTime(this.clock()),
    });
  }
}

export function canLogIn(user: UserRow): boolean {
  const off = (v: unknown) => v === 0 || v === '0' || v === false;
  const on = (v: unknown) => v === 1 || v === '1' || v === true;
  return user.status !== 'Inactive' && !off(user.sugar_login) && !on(user.is_group) && !on(user.portal_only);
}

export function actorFor(user: UserRow): Actor {
  return { type: 'user', id: user.id, isAdmin: user.is_admin === true || String(user.is_admin) === '1', userName: user.user_name };
}
