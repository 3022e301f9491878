import Router from '@koa/router';
import type { Context } from 'koa';
import type { CrmServices } from '../../app/services';
import { CaneError } from '../../errors';
import { readForm } from '../middleware/body';
import { legacyMethods, SIGNATURES, toSoapError } from './methods';
import { SoapError, soapErrors } from './soap-errors';

/**
 * rest_data as SuiteCRM on PHP 5/7 took it: values bound by position, in the order given, names ignored.
 * Names are used only when every key names a parameter of the method (login also takes `application`):
 * then the call is unambiguous by name, and by position it agrees whenever the keys are the method's
 * leading parameters in order; out of order or with gaps it could not be meant positionally.
 */
export function argumentsOf(method: string, restData: unknown): Record<string, unknown> {
  const names = SIGNATURES[method];
  const byPosition = (values: unknown[]) => Object.fromEntries(names.map((n, i) => [n, values[i]]));
  if (Array.isArray(restData)) return byPosition(restData);
  if (!restData || typeof restData !== 'object') return {};
  const obj = { ...(restData as Record<string, unknown>) };
  if (method === 'login' && 'application' in obj && !('application_name' in obj)) {
    obj.application_name = obj.application;
    delete obj.application;
  }
  const keys = Object.keys(obj);
  if (keys.length && keys.every((k) => names.includes(k))) return obj;
  return byPosition(Object.values(restData as Record<string, unknown>));
}

/**
 * Sugar's legacy REST endpoint: one URL, form fields method / input_type / response_type /
 * rest_data, always HTTP 200, errors as {name, number, description} in the body.
 */
export function legacyV41Router(services: CrmServices): Router {
  const router = new Router();
  const methods = legacyMethods(services) as Record<string, (call: { args: Record<string, unknown>; ip: string }) => Promise<unknown>>;
  const handle = async (ctx: Context) => {
    ctx.status = 200;
    ctx.type = 'application/json; charset=UTF-8';
    let result: unknown;
    try {
      const form = await readForm(ctx, services.bodyLimit);
      const method = String(form.method ?? '');
      if (!Object.prototype.hasOwnProperty.call(SIGNATURES, method)) throw soapErrors.undefinedMethod();
      let restData: unknown = [];
      if (form.rest_data !== undefined && form.rest_data !== '') {
        try {
          restData = typeof form.rest_data === 'string' ? JSON.parse(form.rest_data) : form.rest_data;
        } catch (err) {
          throw soapErrors.invalidData(`rest_data is not valid JSON: ${(err as Error).message}`);
        }
      }
      result = await methods[method]({ args: argumentsOf(method, restData), ip: ctx.ip });
    } catch (err) {
      if (err instanceof SoapError) result = err.toJSON();
      else if (err instanceof CaneError && err.code === 'request_too_large') result = soapErrors.invalidData(err.message).toJSON();
      else {
        const soap = toSoapError(err);
        if (!soap) {
          services.log.error({ err }, 'v4_1 call failed');
          result = { name: 'Internal Error', number: 1000, description: 'An internal error occurred; it has been logged.' };
        } else result = soap.toJSON();
      }
    }
    ctx.body = JSON.stringify(result ?? null);
  };
  router.post('/service/v4_1/rest.php', handle);
  router.get('/service/v4_1/rest.php', handle);
  return router;
}
