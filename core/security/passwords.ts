import crypto from 'node:crypto';
import bcrypt from 'bcryptjs';

/** Lower-case hex MD5, what SuiteCRM hashes and what v4_1 clients send as the password. */
export function md5Hex(plain: string): string {
  return crypto.createHash('md5').update(plain, 'utf8').digest('hex');
}

/**
 * users.user_hash as SuiteCRM 7 writes it (User::getPasswordHashMD5): bcrypt of the lower-case
 * MD5 hex of the password, so Sugar and Cane can share a users table.
 */
export async function hashPassword(plain: string, rounds = 10): Promise<string> {
  return bcrypt.hash(md5Hex(plain), rounds);
}

/**
 * Checks a password against user_hash. `md5` is the lower-case MD5 hex of the password (v4_1 clients
 * send it; for REST v10 compute it from the plaintext). Accepts bcrypt ($2y$ from PHP, $2a$/$2b$) and
 * the legacy bare MD5 hash SuiteCRM's checkPasswordMD5 still accepts.
 */
export async function verifyPassword(md5: string, userHash: string | null | undefined): Promise<boolean> {
  if (!userHash) return false;
  const candidate = md5.toLowerCase();
  if (/^\$2[aby]\$\d\d\$/.test(userHash)) return bcrypt.compare(candidate, userHash);
  if (/^[0-9a-f]{32}$/i.test(userHash)) return crypto.timingSafeEqual(Buffer.from(candidate), Buffer.from(userHash.toLowerCase()));
  return false;
}

export function randomPassword(): string {
  return crypto.randomBytes(12).toString('base64url');
}
