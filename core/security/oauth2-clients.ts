import crypto from 'node:crypto';
import type { Database } from '../db/connection';
import { CaneError } from '../errors';
import { formatDateTime, type Clock } from '../records/time';

/** The grants a SuiteCRM OAuth2Clients record may allow (its oauth2_grant_type_dom). */
export const CLIENT_GRANTS = ['password', 'client_credentials'] as const;
export type ClientGrant = (typeof CLIENT_GRANTS)[number];

export interface OAuth2Client {
  id: string;
  name: string;
  allowedGrantType: string;
  isConfidential: boolean;
  /** The user client_credentials tokens act as. */
  assignedUserId: string | null;
}

/** SuiteCRM keeps a client secret as the SHA-256 hex of the plaintext (OAuth2Clients::save). */
export function hashClientSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

/**
 * OAuth2 clients of the V8 API in SuiteCRM's `oauth2clients` table, so a database shared with
 * SuiteCRM shares its clients both ways.
 */
export class OAuth2ClientStore {
  constructor(private readonly db: Database, private readonly clock: Clock) {}

  /** The live client when the secret is right and the grant is allowed for it (refresh_token always is), else undefined. */
  async authenticate(clientId: string, secret: string, grant: string): Promise<OAuth2Client | undefined> {
    if (!clientId || clientId.length > 36) return undefined;
    const row = await this.db.knex('oauth2clients').where({ id: clientId, deleted: 0 }).first();
    if (!row) return undefined;
    const stored = Buffer.from(String(row.secret ?? ''));
    const given = Buffer.from(hashClientSecret(secret));
    if (stored.length !== given.length || !crypto.timingSafeEqual(stored, given)) return undefined;
    if (grant !== 'refresh_token' && grant !== row.allowed_grant_type) return undefined;
    return toClient(row);
  }

  /** Creates a client as SuiteCRM's admin screen does (one hour token duration); answers it with its secret, shown once. */
  async create(options: { name: string; grant: ClientGrant; assignedUserId?: string; secret?: string; createdBy?: string }): Promise<OAuth2Client & { secret: string }> {
    if (!CLIENT_GRANTS.includes(options.grant)) throw new CaneError('invalid_parameter', `grant must be one of ${CLIENT_GRANTS.join(', ')}`, 422);
    if (!options.name.trim()) throw new CaneError('invalid_parameter', 'a client needs a name', 422);
    if (options.grant === 'client_credentials' && !options.assignedUserId) throw new CaneError('invalid_parameter', 'a client_credentials client needs the user its tokens act as', 422);
    const secret = options.secret ?? crypto.randomBytes(24).toString('base64url');
    const id = crypto.randomUUID();
    const now = formatDateTime(this.clock());
    await this.db.knex('oauth2clients').insert({
      id, name: options.name, date_entered: now, date_modified: now, modified_user_id: options.createdBy ?? '1', created_by: options.createdBy ?? '1',
      description: null, deleted: 0, secret: hashClientSecret(secret), redirect_url: null, is_confidential: 1, allowed_grant_type: options.grant,
      duration_value: 3600, duration_amount: 1, duration_unit: 'hour', assigned_user_id: options.assignedUserId ?? null,
    });
    return { id, name: options.name, allowedGrantType: options.grant, isConfidential: true, assignedUserId: options.assignedUserId ?? null, secret };
  }
}

function toClient(row: Record<string, unknown>): OAuth2Client {
  const confidential = row.is_confidential;
  return {
    id: String(row.id),
    name: String(row.name ?? ''),
    allowedGrantType: String(row.allowed_grant_type ?? ''),
    isConfidential: confidential === null || confidential === undefined || confidential === 1 || confidential === '1' || confidential === true,
    assignedUserId: (row.assigned_user_id as string) || null,
  };
}
