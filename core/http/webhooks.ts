import Router from '@koa/router';
import type { Context } from 'koa';
import type { CrmServices } from '../app/services';
import type { SmsService } from '../sms/sms-service';
import { checkSignature } from '../sms/webhooks';
import { readRaw } from './middleware/body';

/**
 * Twilio's webhooks. Both are refused unless X-Twilio-Signature matches PUBLIC_URL + path and the
 * posted parameters, keyed by TWILIO_AUTH_TOKEN; the URL is never rebuilt from request headers.
 */
export function webhookRouter(services: CrmServices, sms: SmsService): Router {
  const router = new Router({ prefix: '/webhooks/twilio' });

  const verified = async (ctx: Context): Promise<Record<string, string> | undefined> => {
    if (!ctx.is('application/x-www-form-urlencoded')) {
      ctx.status = 415;
      ctx.body = 'Twilio webhooks are form posts (application/x-www-form-urlencoded)';
      return undefined;
    }
    // Only the posted parameters are signed (the query string is part of the URL).
    const params: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(await readRaw(ctx, 64 * 1024))) params[k] = v;
    const check = checkSignature(sms.config, `${ctx.path}${ctx.querystring ? `?${ctx.querystring}` : ''}`, params, ctx.get('X-Twilio-Signature') || undefined);
    if (!check.ok) {
      services.log.warn({ path: ctx.path, reason: check.reason }, 'webhook refused');
      ctx.status = 403;
      ctx.body = check.reason;
      return undefined;
    }
    return params;
  };

  const webhook = (path: string, type: string, handle: (params: Record<string, string>) => Promise<{ status: number; body: string }>) => {
    router.post(path, async (ctx) => {
      const params = await verified(ctx);
      if (!params) return;
      const result = await handle(params);
      ctx.status = result.status;
      ctx.type = type;
      ctx.body = result.body;
    });
  };
  webhook('/status', 'text/plain', async (params) => {
    const result = await sms.statusCallback(params);
    return { status: result.status, body: result.message };
  });
  // Twilio expects TwiML; an empty response, because Twilio already answers STOP/START/HELP.
  webhook('/inbound', 'text/xml', async (params) => {
    const result = await sms.inbound(params);
    return { status: result.status, body: result.twiml };
  });
  return router;
}
