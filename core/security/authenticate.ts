import crypto from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { Database } from '../db/connection';
import { CaneError } from '../errors';
import type { Actor } from '../records/actor';
import { formatDateTime, type Clock } from '../records/time';
import type { LoginPolicy } from './login-policy';
import { LoginThrottle } from './login-throttle';
import { md5Hex, verifyPassword } from './passwords';

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

// A real bcrypt hash to compare against when the user does not exist, so timing does not tell;
// made on the first such login rather than at start (hashing takes about 100 ms).
let dummyHash: Promise<string> | undefined;
const DUMMY_HASH = () => (dummyHash ??= bcrypt.hash('cane-dummy', 10));

/**
 * Checks user name and password against Sugar's users table. Before the password is looked at, the
 * attempt takes a slot in LoginThrottle (capped per user name and per address, across processes);
 * every attempt is also logged in cane_login_attempts.
 */
export class Authenticator {
  /** Called after a successful login (the audit trail listens here). */
  onLogin: ((user: UserRow, ip: string | null) => Promise<void>) | undefined;
  readonly throttle: LoginThrottle;

  constructor(private readonly db: Database, private readonly clock: Clock, policy: LoginPolicy) {
    this.throttle = new LoginThrottle(db, clock, policy);
  }

  /** `password` is the plaintext, or with `isMd5` its lower-case MD5 hex (v4_1). Throws TooManyLoginsError when capped. */
  async login(userName: string, password: string, options: { isMd5?: boolean; ip?: string } = {}): Promise<UserRow> {
    const ip = options.ip ?? null;
    const slot = await this.throttle.reserve(userName, ip);
    let user: UserRow | undefined;
    try {
      user = await this.check(userName, password, options.isMd5 ?? false);
    } catch (err) {
      await slot.abandoned();
      throw err;
    }
    if (!user || !canLogIn(user)) {
      await slot.failed();
      await this.record(userName, ip, false);
      throw new LoginError(user ? 'inactive' : 'credentials');
    }
    await slot.succeeded();
    await this.record(userName, ip, true);
    await this.onLogin?.(user, ip);
    return user;
  }

  /** The user when the password is right (active or not), else undefined. */
  private async check(userName: string, password: string, isMd5: boolean): Promise<UserRow | undefined> {
    const user: UserRow | undefined = userName ? await this.db.knex('users').where({ user_name: userName, deleted: 0 }).first() : undefined;
    const md5 = isMd5 ? password.toLowerCase() : md5Hex(password);
    const ok = user ? await verifyPassword(md5, user.user_hash) : (await bcrypt.compare(md5, await DUMMY_HASH()), false);
    return ok ? user : undefined;
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
