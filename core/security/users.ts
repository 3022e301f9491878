import type { Engine } from '../app/engine';
import { CaneError } from '../errors';
import { SYSTEM } from '../records/actor';
import type { RecordData } from '../records/read';
import { hashPassword, randomPassword } from './passwords';

export interface NewUser {
  user_name: string;
  password: string;
  first_name?: string;
  last_name?: string;
  is_admin?: boolean;
  status?: 'Active' | 'Inactive';
  id?: string;
  [field: string]: unknown;
}

/** Creates a user through the record service (validation, hooks, audit) with a Sugar-compatible hash. */
/** Passwords shorter than this are refused, except for the demo's well-known admin/admin. */
export const MIN_PASSWORD_LENGTH = 6;

export async function createUser(engine: Engine, user: NewUser, minLength = MIN_PASSWORD_LENGTH): Promise<RecordData> {
  if (!user.password || user.password.length < minLength) throw new CaneError('invalid_parameter', `password must have at least ${minLength} characters`, 422);
  const taken = await engine.db.knex('users').where({ user_name: user.user_name, deleted: 0 }).first('id');
  if (taken) throw new CaneError('invalid_parameter', `user name '${user.user_name}' is already taken`, 422);
  const { password, ...fields } = user;
  return engine.records.create(SYSTEM, 'Users', {
    status: 'Active',
    last_name: user.last_name ?? user.user_name,
    ...fields,
    user_hash: await hashPassword(password),
    pwd_last_changed: new Date().toISOString(),
    system_generated_password: false,
  });
}

/** Sets a user's password and signs them out everywhere (but for the token family `keepFamily`, the session changing it). */
export async function setPassword(engine: Engine, userName: string, password: string, minLength = MIN_PASSWORD_LENGTH, keepFamily?: string): Promise<void> {
  if (password.length < minLength) throw new CaneError('invalid_parameter', `password must have at least ${minLength} characters`, 422);
  const user = await engine.db.knex('users').where({ user_name: userName, deleted: 0 }).first('id');
  if (!user) throw new CaneError('not_found', `no user named '${userName}'`, 404);
  await engine.records.update(SYSTEM, 'Users', user.id, { user_hash: await hashPassword(password), pwd_last_changed: new Date().toISOString(), system_generated_password: false });
  const others = engine.db.knex('cane_tokens').where({ user_id: user.id, deleted: 0 });
  if (keepFamily) others.andWhere((q) => q.whereNull('family_id').orWhereNot('family_id', keepFamily));
  await others.update({ deleted: 1 });
}

/**
 * On an empty users table, creates the first administrator (id '1', user name 'admin', as Sugar's
 * installer does). Returns the generated password when none was given, so it can be shown once.
 */
export async function ensureFirstAdmin(engine: Engine, password: string | undefined, minLength = MIN_PASSWORD_LENGTH): Promise<{ created: boolean; generatedPassword?: string }> {
  const any = await engine.db.knex('users').where('deleted', 0).first('id');
  if (any) return { created: false };
  const generatedPassword = password ? undefined : randomPassword();
  await createUser(engine, { id: '1', user_name: 'admin', password: password ?? generatedPassword!, first_name: 'Administrator', last_name: 'Admin', is_admin: true, status: 'Active' }, minLength);
  return { created: true, generatedPassword };
}
