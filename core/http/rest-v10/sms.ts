import type Router from '@koa/router';
import Ajv, { type ValidateFunction } from 'ajv';
import type { Context } from 'koa';
import type { CrmServices } from '../../app/services';
import { ValidationError } from '../../errors';
import type { Actor } from '../../records/actor';
import type { LaunchOptions } from '../../sms/campaigns';
import type { SmsService } from '../../sms/sms-service';
import { readJson } from '../middleware/body';
import { RecordAcl, toV10 } from './format';

type State = { actor: Actor };

/** A background send's body may name 100,000 records (about 5.5 MB of JSON). */
const BACKGROUND_BODY_LIMIT = 8 * 1024 * 1024;

/** SMS endpoints beside the generic record routes (registered before them so /SMS/send is not read as a record id). */
export function smsRoutes(router: Router, services: CrmServices, sms: SmsService): void {
  const actor = (ctx: Context) => (ctx.state as State).actor;
  const module = services.engine.registry.module('SMS');
  const source = (body: unknown) => {
    const b = body as { records?: unknown[]; to?: unknown };
    return Array.isArray(b?.records) && b.records.length > 1 ? 'bulk' : b?.to !== undefined ? 'quick' : 'api';
  };

  router.post('/SMS/send', async (ctx) => {
    const body = await readJson(ctx, services.bodyLimit);
    const result = await sms.send(actor(ctx), body, source(body));
    const rights = await RecordAcl.for(services.acl, actor(ctx), module);
    ctx.body = { records: result.records.map((r) => toV10(module, r, rights)), refused: result.refused };
  });

  // A send to many (up to 100,000 records) run by the job queue: 202 with its progress, which GET follows.
  router.post('/SMS/sends', async (ctx) => {
    const { send, created } = await sms.sends.submit(actor(ctx), await readJson(ctx, Math.max(services.bodyLimit, BACKGROUND_BODY_LIMIT)));
    ctx.status = created ? 202 : 200;
    ctx.body = send;
  });

  router.get('/SMS/sends', async (ctx) => {
    ctx.body = { records: await sms.sends.list(actor(ctx)) };
  });

  router.get('/SMS/sends/:id', async (ctx) => {
    ctx.body = await sms.sends.get(actor(ctx), ctx.params.id);
  });

  router.post('/SMS/sends/:id/cancel', async (ctx) => {
    ctx.body = await sms.sends.cancel(actor(ctx), ctx.params.id);
  });

  router.post('/SMS/preview', async (ctx) => {
    ctx.body = await sms.preview(actor(ctx), await readJson(ctx, services.bodyLimit));
  });

  router.get('/SMS/consent/:number', async (ctx) => {
    ctx.body = await sms.consentOf(actor(ctx), ctx.params.number);
  });

  router.post('/SMS/consent', async (ctx) => {
    const body = (await readJson(ctx, services.bodyLimit)) as { number?: unknown; state?: unknown; note?: unknown };
    if (typeof body?.number !== 'string') throw new ValidationError('SMS', [{ field: 'number', rule: 'required', message: 'is required' }]);
    ctx.body = await sms.setConsent(actor(ctx), body.number, body.state as 'opted_in', 'api', typeof body.note === 'string' ? body.note : undefined);
  });

  router.get('/SMS/:id/status_history', async (ctx) => {
    ctx.body = { records: await sms.statusHistory(actor(ctx), ctx.params.id) };
  });

  router.get('/SMS/config', async (ctx) => {
    ctx.body = sms.describe(actor(ctx));
  });

  router.get('/Campaigns/:id/sms', async (ctx) => {
    const templateId = typeof ctx.query.template_id === 'string' ? ctx.query.template_id.slice(0, 36) : undefined;
    ctx.body = await sms.campaigns.overview(actor(ctx), ctx.params.id, templateId);
  });

  router.post('/Campaigns/:id/sms/launch', async (ctx) => {
    const body = (await readJson(ctx, services.bodyLimit)) ?? {};
    const checkLaunch = launchCheck();
    if (!checkLaunch(body)) {
      throw new ValidationError('Campaigns', checkLaunch.errors!.map((e) => ({
        field: e.instancePath.slice(1) || (e.params as { additionalProperty?: string }).additionalProperty || 'request',
        rule: e.keyword,
        message: e.keyword === 'additionalProperties' ? 'is not a parameter of a campaign launch' : e.message ?? 'is invalid',
      })));
    }
    ctx.status = 202;
    ctx.body = await sms.campaigns.launch(actor(ctx), ctx.params.id, body as LaunchOptions);
  });

  for (const verb of ['pause', 'resume', 'cancel'] as const) {
    router.post(`/Campaigns/:id/sms/${verb}`, async (ctx) => {
      ctx.body = await sms.campaigns[verb](actor(ctx), ctx.params.id);
    });
  }
}

let launchChecker: ValidateFunction | undefined;
/** Compiled on the first launch, not at start-up. */
const launchCheck = () => (launchChecker ??= new Ajv({ allErrors: true }).compile({ type: 'object', additionalProperties: false, properties: { template_id: { type: 'string', minLength: 1, maxLength: 36 }, test: { type: 'boolean' }, send_at: { type: 'string', minLength: 1, maxLength: 40 } } }));
