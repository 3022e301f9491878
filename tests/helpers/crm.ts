import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCrm, type Crm, type CrmOptions } from '../../core/app/create-crm';
import { silentLogger } from '../../core/logger';
import { RoleAdmin } from '../../core/security/roles';
import { createUser } from '../../core/security/users';
import { md5Hex } from '../../core/security/passwords';
import { describeEachKind } from './databases';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A running Cane on 127.0.0.1 with a small fetch client. */
export interface TestServer {
  crm: Crm;
  url: string;
  call<T = any>(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<ApiResponse<T>>;
  login(userName: string, password: string): Promise<string>;
  /** POST to the v4_1 endpoint with Sugar's form fields. */
  v4(method: string, restData: unknown): Promise<any>;
  /** A v4_1 session id for the user (the password MD5-hashed, as Sugar's clients send it). */
  v4Login(userName: string, password: string): Promise<string>;
}

export async function startServer(crm: Crm): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(crm.app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export function client(crm: Crm, url: string): TestServer {
  const call = async (method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers['OAuth-Token'] = options.token;
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${url}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* plain text */ }
    return { status: res.status, body: parsed as any, headers: res.headers };
  };
  return {
    crm, url, call,
    async login(userName, password) {
      const res = await call('POST', '/rest/v10/oauth2/token', { body: { grant_type: 'password', client_id: 'sugar', client_secret: '', username: userName, password, platform: 'base' } });
      if (res.status !== 200) throw new Error(`login failed: ${JSON.stringify(res.body)}`);
      return res.body.access_token;
    },
    async v4Login(userName, password) {
      const res = await this.v4('login', { user_auth: { user_name: userName, password: md5Hex(password) }, application_name: 'tests' });
      if (!res.id) throw new Error(`v4_1 login failed: ${JSON.stringify(res)}`);
      return res.id;
    },
    async v4(method, restData) {
      const form = new URLSearchParams({ method, input_type: 'JSON', response_type: 'JSON', rest_data: JSON.stringify(restData) });
      const res = await fetch(`${url}/service/v4_1/rest.php`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
      expect(res.status).toBe(200);
      return JSON.parse(await res.text());
    },
  };
}

/** describe() once per database with a listening Cane (admin password 'secret-admin'). */
export function describeEachServer(title: string, body: (get: () => TestServer) => void, options: Partial<CrmOptions> = {}): void {
  describeEachKind(title, async (db) => {
    // Plugins (and their runner process) only where a suite asks for them.
    const crm = await createCrm({ database: db, customDir: '/nonexistent', logger: silentLogger, adminPassword: 'secret-admin', secret: 'test-secret', plugins: false, ...options });
    const listening = await startServer(crm);
    return { value: client(crm, listening.url), stop: async () => { await listening.close(); await crm.close(); } };
  }, body);
}

/**
 * A new user with a new role holding the given rules (module, action, level), signed in: answers
 * the user's token.
 */
export async function loginWithRole(server: TestServer, user: { name: string; password: string }, role: string, rules: Array<[module: string, action: string, level: string]>): Promise<string> {
  const { crm } = server;
  const roles = new RoleAdmin(crm.engine, crm.services.acl);
  await createUser(crm.engine, { user_name: user.name, password: user.password, first_name: user.name, last_name: 'Tester' });
  await roles.create(role);
  for (const [module, action, level] of rules) await roles.set(role, module, action, level);
  await roles.assign(role, user.name);
  crm.services.acl.invalidate();
  return server.login(user.name, user.password);
}
