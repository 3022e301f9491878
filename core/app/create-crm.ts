import Koa from 'koa';
import { createEngine, DEFAULT_DATABASE_URL, type Engine, type EngineOptions } from './engine';
import { loadDemoData } from './demo-data';
import type { CrmServices } from './services';
import { restV10Router } from '../http/rest-v10/router';
import { legacyV41Router } from '../http/legacy-v4_1/router';
import { v8Routers } from '../http/v8/router';
import { healthMiddleware } from '../http/health';
import { uiRouter } from '../http/ui/router';
import { DEFAULT_BODY_LIMIT } from '../http/middleware/body';
import { createLogger } from '../logger';
import { AclPolicy, ensureAclActions } from '../security/acl';
import { Authenticator } from '../security/authenticate';
import { loginPolicyFrom, type LoginPolicy } from '../security/login-policy';
import { installationSecret } from '../security/secret';
import { TokenStore, DEFAULT_LIFETIMES, type TokenLifetimes } from '../security/tokens';
import { ensureFirstAdmin, setPassword } from '../security/users';
import type { RecordService } from '../records/record-service';
import { formatDateTime, systemClock } from '../records/time';
import { publish } from '../records/context';
import { openDatabase } from '../db/connection';
import type { PluginHost } from '../plugins/plugin-host';
import { startPluginHost, type PluginOptions } from './plugins';
import fs from 'node:fs';
import { SmsService, type SmsServiceOptions } from '../sms/sms-service';
import { smsConfigFrom } from '../sms/config';
import { webhookRouter } from '../http/webhooks';

export interface CrmOptions extends Omit<EngineOptions, 'access'> {
  /** Password of the first admin on an empty database (default CANE_ADMIN_PASSWORD, else random). */
  adminPassword?: string;
  /** Load the demo data (and give the demo admin the password 'admin'). */
  demo?: boolean;
  /** Keys token digests; default CANE_SECRET, else generated once and kept in the config table. */
  secret?: string;
  tokenLifetimes?: Partial<TokenLifetimes>;
  /** Failed-login caps and window (default CANE_LOGIN_* variables, else 10 per user and 100 per address in 15 minutes). */
  loginPolicy?: Partial<LoginPolicy>;
  /** Largest accepted request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Sugar's `disable_count_query` (default CANE_DISABLE_COUNT_QUERY=1): v4_1 get_entry_list does not count every match; total_count is -1 unless the page is the last. */
  disableCountQuery?: boolean;
  /** Public base URL (PUBLIC_URL), used for webhooks and links. */
  publicUrl?: string;
  /** UI theme for users who have not chosen one (CANE_THEME, default 'default'). */
  theme?: string;
  /**
   * Sandboxed plugins: the built-in ones in plugins/ plus the folder of installed ones
   * (CANE_PLUGINS_DIR, default ./cane-plugins). `false` turns plugins off.
   */
  plugins?: false | PluginOptions;
  /** The SMS module: provider, Twilio credentials, rate (default: SMS_PROVIDER, TWILIO_* and SMS_* variables). `false` turns it off. */
  sms?: false | SmsServiceOptions;
}

/** An embeddable Cane: mount `app` in a host Koa app (under any prefix) or serve it alone. */
export interface Crm {
  app: Koa;
  engine: Engine;
  records: RecordService;
  services: CrmServices;
  plugins?: PluginHost;
  sms?: SmsService;
  /** Set when Cane created the first admin with a random password; show it once. */
  initialAdminPassword?: string;
  close(): Promise<void>;
}

export async function createCrm(options: CrmOptions = {}): Promise<Crm> {
  const log = options.logger ?? createLogger();
  const clock = options.clock ?? systemClock;
  // Configuration read from files and the environment is checked before anything is opened.
  const loginPolicy = loginPolicyFrom(options.loginPolicy);
  const smsConfig = options.sms === false ? undefined : smsConfigFrom({ ...options.sms?.config, publicUrl: options.sms?.config?.publicUrl ?? options.publicUrl });
  const pluginSettings = options.plugins === false ? undefined : options.plugins?.settings ?? pluginSettingsFile(process.env.CANE_PLUGIN_SETTINGS);
  // The access policy needs the registry and database the engine builds, so it is attached after.
  const database = options.database ?? openDatabase(options.databaseUrl ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, log);
  const engine = await createEngine({ ...options, database, logger: log, clock });
  const ownsDatabase = !options.database;
  const acl = new AclPolicy(engine.db, engine.registry);
  engine.context.access = acl;
  await ensureAclActions(engine.db, engine.registry, clock);
  const secret = options.secret ?? (await installationSecret(engine.db));
  const tokens = new TokenStore(engine.db, secret, clock, { ...DEFAULT_LIFETIMES, ...options.tokenLifetimes });
  const auth = new Authenticator(engine.db, clock, loginPolicy);
  auth.onLogin = (user, ip) => publish(engine.context, {
    event: 'user.login', module: 'Users', id: user.id, isUpdate: false, actorId: user.id, changes: {},
    record: { id: user.id, user_name: user.user_name, date_modified: formatDateTime(clock()), modified_user_id: user.id, ip_address: ip },
  });
  const sms = smsConfig ? new SmsService(engine, { ...(options.sms || {}), config: smsConfig }, log, clock) : undefined;
  const adminPassword = options.adminPassword ?? process.env.CANE_ADMIN_PASSWORD ?? (options.demo ? 'admin' : undefined);
  const first = await ensureFirstAdmin(engine, adminPassword, options.demo ? 1 : undefined);
  if (options.demo) {
    log.info(`demo data: ${await loadDemoData(engine)} records created`);
    for (const user of ['sally', 'max']) {
      const row = await engine.db.knex('users').where({ user_name: user }).first('user_hash');
      if (row && !row.user_hash) await setPassword(engine, user, user, 1);
    }
  }
  await sms?.start();
  const plugins = options.plugins === false ? undefined : await startPluginHost(engine, options.plugins ?? {}, pluginSettings, sms, log, clock);
  engine.jobs.register('purgeTokens', async () => ({ message: `removed ${await tokens.purge()} expired tokens` }));

  const services: CrmServices = { engine, tokens, auth, acl, log, bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT, disableCountQuery: options.disableCountQuery ?? process.env.CANE_DISABLE_COUNT_QUERY === '1', sms, plugins };
  const app = new Koa();
  app.proxy = process.env.CANE_TRUST_PROXY === '1';
  app.use(healthMiddleware(engine));
  const v10 = restV10Router(services);
  app.use(v10.routes());
  app.use(v10.allowedMethods());
  if (sms) app.use(webhookRouter(services, sms).routes());
  const legacy = legacyV41Router(services);
  app.use(legacy.routes());
  for (const v8 of v8Routers(services)) app.use(v8.routes());
  const ui = uiRouter(services, {
    secret,
    secure: (options.publicUrl ?? process.env.PUBLIC_URL ?? '').startsWith('https://'),
    customDir: options.customDir,
    defaultTheme: options.theme ?? process.env.CANE_THEME,
    defaultTimeZone: process.env.CANE_TIMEZONE,
  });
  app.use(ui.routes());
  app.use(async (ctx, next) => {
    if (ctx.path === '/' || ctx.path === '') return ctx.redirect(`${(ctx as typeof ctx & { mountPath?: string }).mountPath ?? ''}/ui`);
    await next();
  });
  app.use(async (ctx) => {
    ctx.status = 404;
    ctx.body = { error: 'no_method', error_message: `Could not find a route for ${ctx.method} ${ctx.path}` };
  });
  return {
    app, engine, records: engine.records, services, plugins, sms, initialAdminPassword: first.generatedPassword,
    close: async () => {
      await plugins?.close();
      await engine.close();
      if (ownsDatabase) await database.close();
    },
  };
}

/** Plugin settings from a JSON file (`{ "<plugin id>": { ...settings } }`), checked by each manifest's schema at load. */
export function pluginSettingsFile(file: string | undefined): Record<string, Record<string, unknown>> | undefined {
  if (!file) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`CANE_PLUGIN_SETTINGS: cannot read ${file}: ${(err as Error).message}`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data) || Object.values(data).some((v) => !v || typeof v !== 'object' || Array.isArray(v))) {
    throw new Error(`CANE_PLUGIN_SETTINGS: ${file} must be an object of plugin id → settings object`);
  }
  return data as Record<string, Record<string, unknown>>;
}
