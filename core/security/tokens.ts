import crypto from 'node:crypto';
import type { Database } from '../db/connection';
import { formatDateTime, type Clock } from '../records/time';

export type TokenKind = 'access' | 'refresh' | 'session';

export interface TokenInfo {
  id: string;
  userId: string;
  kind: TokenKind;
  clientId: string | null;
  platform: string | null;
  familyId: string | null;
  expiresAt: string;
}

export interface IssuedPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  refreshExpiresIn: number;
}

export interface TokenLifetimes {
  /** Seconds; Sugar's defaults are 3600 and 1209600 (two weeks). */
  access: number;
  refresh: number;
  session: number;
}

export const DEFAULT_LIFETIMES: TokenLifetimes = { access: 3600, refresh: 1_209_600, session: 86_400 };

/**
 * Bearer tokens kept in the database (so any process can check them), stored only as an HMAC of
 * the token under the installation secret. Refresh tokens rotate: each use consumes the token and
 * issues a new pair in the same family; presenting a consumed refresh token again revokes the
 * family, because it means the token was copied.
 */
export class TokenStore {
  constructor(private readonly db: Database, private readonly secret: string, private readonly clock: Clock, readonly lifetimes: TokenLifetimes = DEFAULT_LIFETIMES) {}

  private digest(token: string): string {
    return crypto.createHmac('sha256', this.secret).update(token).digest('hex');
  }

  private at(offsetSeconds = 0): string {
    return formatDateTime(new Date(this.clock().getTime() + offsetSeconds * 1000));
  }

  async issue(kind: TokenKind, userId: string, options: { clientId?: string; platform?: string; familyId?: string; ip?: string } = {}): Promise<string> {
    const token = crypto.randomBytes(32).toString('base64url');
    await this.db.knex('cane_tokens').insert({
      id: crypto.randomUUID(),
      token_hash: this.digest(token),
      kind,
      user_id: userId,
      client_id: options.clientId ?? null,
      platform: options.platform ?? null,
      family_id: options.familyId ?? null,
      expires_at: this.at(this.lifetimes[kind]),
      consumed_at: null,
      ip_address: options.ip ?? null,
      date_entered: this.at(),
      deleted: 0,
    });
    return token;
  }

  /** A new access/refresh pair sharing a family id (the refresh chain). */
  async issuePair(userId: string, options: { clientId?: string; platform?: string; ip?: string; familyId?: string } = {}): Promise<IssuedPair> {
    const familyId = options.familyId ?? crypto.randomUUID();
    const accessToken = await this.issue('access', userId, { ...options, familyId });
    const refreshToken = await this.issue('refresh', userId, { ...options, familyId });
    return { accessToken, refreshToken, expiresIn: this.lifetimes.access, refreshExpiresIn: this.lifetimes.refresh };
  }

  /** The live token of that kind, or undefined when it is unknown, expired, consumed or revoked. */
  async verify(token: string, kind: TokenKind): Promise<TokenInfo | undefined> {
    if (!token || token.length > 512) return undefined;
    const row = await this.db.knex('cane_tokens').where({ token_hash: this.digest(token), kind, deleted: 0 }).first();
    if (!row || row.consumed_at || String(row.expires_at) <= this.at()) return undefined;
    return toInfo(row);
  }

  /**
   * verify() and the token's user in one query (every authenticated request asks for both): the
   * user row when the token is live and its user not deleted, else undefined.
   */
  async verifyUser(token: string, kind: TokenKind): Promise<{ info: TokenInfo; user: Record<string, unknown> } | undefined> {
    if (!token || token.length > 512) return undefined;
    const row = await this.db.knex('cane_tokens as t').join('users as u', 'u.id', 't.user_id')
      .where({ 't.token_hash': this.digest(token), 't.kind': kind, 't.deleted': 0, 'u.deleted': 0 })
      .first('u.*', Object.fromEntries(TOKEN_COLUMNS.map((c) => [`${TOKEN_PREFIX}${c}`, `t.${c}`])));
    if (!row || row[`${TOKEN_PREFIX}consumed_at`] || String(row[`${TOKEN_PREFIX}expires_at`]) <= this.at()) return undefined;
    const tokenRow: Record<string, unknown> = {};
    for (const column of TOKEN_COLUMNS) {
      tokenRow[column] = row[`${TOKEN_PREFIX}${column}`];
      delete row[`${TOKEN_PREFIX}${column}`];
    }
    return { info: toInfo(tokenRow), user: row };
  }

  /**
   * Consumes a refresh token and returns the pair that replaces it, or undefined. A second use of
   * the same refresh token revokes every token of its family.
   */
  async rotate(refreshToken: string, clientId: string): Promise<{ userId: string; pair: IssuedPair } | undefined> {
    const hash = this.digest(refreshToken);
    const row = await this.db.knex('cane_tokens').where({ token_hash: hash, kind: 'refresh' }).first();
    if (!row || Number(row.deleted) === 1) return undefined;
    if (row.consumed_at) {
      await this.revokeFamily(row.family_id);
      return undefined;
    }
    if (String(row.expires_at) <= this.at() || (row.client_id && row.client_id !== clientId)) return undefined;
    const consumed = await this.db.knex('cane_tokens').where({ id: row.id }).whereNull('consumed_at').update({ consumed_at: this.at() });
    if (consumed !== 1) {
      await this.revokeFamily(row.family_id);
      return undefined;
    }
    // The access token of the consumed refresh token's generation stops working too.
    await this.db.knex('cane_tokens').where({ family_id: row.family_id, kind: 'access', deleted: 0 }).update({ deleted: 1 });
    const pair = await this.issuePair(row.user_id, { clientId: row.client_id ?? undefined, platform: row.platform ?? undefined, familyId: row.family_id });
    return { userId: row.user_id, pair };
  }

  /** Logout: the token and everything in its family stop working. */
  async revoke(token: string): Promise<boolean> {
    const row = await this.db.knex('cane_tokens').where({ token_hash: this.digest(token), deleted: 0 }).first();
    if (!row) return false;
    if (row.family_id) await this.revokeFamily(row.family_id);
    else await this.db.knex('cane_tokens').where({ id: row.id }).update({ deleted: 1 });
    return true;
  }

  async revokeFamily(familyId: string | null): Promise<void> {
    if (familyId) await this.db.knex('cane_tokens').where({ family_id: familyId }).update({ deleted: 1 });
  }

  /** Removes expired and revoked rows; returns how many. */
  async purge(): Promise<number> {
    return this.db.knex('cane_tokens').where('expires_at', '<', this.at()).orWhere('deleted', 1).delete();
  }
}

/** The token columns verifyUser reads beside the user's, under a prefix no users column has. */
const TOKEN_COLUMNS = ['id', 'user_id', 'kind', 'client_id', 'platform', 'family_id', 'expires_at', 'consumed_at'];
const TOKEN_PREFIX = 'cane_token__';

function toInfo(row: Record<string, unknown>): TokenInfo {
  return {
    id: String(row.id), userId: String(row.user_id), kind: row.kind as TokenKind, clientId: (row.client_id as string) ?? null,
    platform: (row.platform as string) ?? null, familyId: (row.family_id as string) ?? null, expiresAt: String(row.expires_at).slice(0, 19),
  };
}
