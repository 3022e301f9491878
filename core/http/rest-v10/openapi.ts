import type { Registry } from '../../metadata/registry';
import type { FieldDef } from '../../metadata/types';
import { isStored, maxLength, valueKind } from '../../metadata/field-types';

function fieldSchema(registry: Registry, field: FieldDef): Record<string, unknown> {
  const description = field.comment ?? (field.vname ? undefined : undefined);
  const base: Record<string, unknown> = description ? { description } : {};
  const options = field.options ? registry.dropdown(field.options) : undefined;
  switch (valueKind(field)) {
    case 'int': return { ...base, type: 'integer', nullable: true };
    case 'float': return { ...base, type: 'number', nullable: true };
    case 'decimal': return { ...base, type: 'string', pattern: '^-?\\d+(\\.\\d+)?$', nullable: true };
    case 'bool': return { ...base, type: 'boolean' };
    case 'date': return { ...base, type: 'string', format: 'date', nullable: true };
    case 'datetime': return { ...base, type: 'string', format: 'date-time', nullable: true };
    case 'time': return { ...base, type: 'string', pattern: '^\\d{2}:\\d{2}:\\d{2}$', nullable: true };
    case 'multienum': return { ...base, type: 'array', items: options ? { type: 'string', enum: Object.keys(options) } : { type: 'string' } };
    case 'enum': return { ...base, type: 'string', nullable: true, ...(options ? { enum: Object.keys(options) } : {}) };
    default: {
      const len = maxLength(field);
      return { ...base, type: 'string', nullable: true, ...(len && len < 65535 ? { maxLength: len } : {}) };
    }
  }
}

const error = { $ref: '#/components/schemas/Error' };
const responses = (ok: Record<string, unknown>) => ({
  200: ok,
  401: { description: 'need_login / invalid_grant', content: { 'application/json': { schema: error } } },
  403: { description: 'not_authorized', content: { 'application/json': { schema: error } } },
  404: { description: 'not_found', content: { 'application/json': { schema: error } } },
  422: { description: 'invalid_parameter / missing_parameter', content: { 'application/json': { schema: error } } },
});

/** An OpenAPI 3.0 document for REST v10, generated from the metadata (one schema per module). */
export function openApiDocument(registry: Registry, serverUrl = '/rest/v10'): Record<string, unknown> {
  const schemas: Record<string, unknown> = {
    Error: { type: 'object', required: ['error', 'error_message'], properties: { error: { type: 'string' }, error_message: { type: 'string' }, fields: { type: 'array', items: { type: 'object' } } } },
    Filter: { type: 'array', items: { type: 'object' }, description: "Sugar's filter: [{\"name\": {\"$starts\": \"A\"}}, {\"$or\": [...]}]" },
  };
  const paths: Record<string, unknown> = {};
  const listParams = [
    { name: 'filter', in: 'query', schema: { type: 'string' }, description: 'JSON filter array, or bracket notation filter[0][name][$starts]=A' },
    { name: 'fields', in: 'query', schema: { type: 'string' } },
    { name: 'max_num', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
    { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0 } },
    { name: 'order_by', in: 'query', schema: { type: 'string' }, description: 'name:ASC,date_modified:DESC' },
    { name: 'q', in: 'query', schema: { type: 'string' } },
  ];
  for (const m of registry.modules.values()) {
    const properties: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(m.fields)) {
      if (field.type === 'link' || field.sensitive) continue;
      if (!isStored(field) && field.type !== 'relate' && field.type !== 'parent' && !field.db_concat_fields) continue;
      properties[name] = fieldSchema(registry, field);
    }
    const ref = { $ref: `#/components/schemas/${m.name}` };
    schemas[m.name] = { type: 'object', properties: { ...properties, _module: { type: 'string' }, _acl: { type: 'object' } } };
    const json = (schema: unknown) => ({ description: 'OK', content: { 'application/json': { schema } } });
    const page = { type: 'object', properties: { next_offset: { type: 'integer' }, records: { type: 'array', items: ref } } };
    const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
    paths[`/${m.name}`] = {
      get: { tags: [m.name], summary: `List ${m.name}`, parameters: listParams, responses: responses(json(page)) },
      post: { tags: [m.name], summary: `Create a ${m.objectName}`, requestBody: { content: { 'application/json': { schema: ref } } }, responses: responses(json(ref)) },
    };
    paths[`/${m.name}/filter`] = { post: { tags: [m.name], summary: `Filter ${m.name}`, requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { filter: { $ref: '#/components/schemas/Filter' }, max_num: { type: 'integer' }, offset: { type: 'integer' }, order_by: { type: 'string' }, fields: { type: 'string' } } } } } }, responses: responses(json(page)) } };
    paths[`/${m.name}/count`] = { get: { tags: [m.name], parameters: listParams.slice(0, 1), responses: responses(json({ type: 'object', properties: { record_count: { type: 'integer' } } })) } };
    paths[`/${m.name}/{id}`] = {
      get: { tags: [m.name], parameters: [id], responses: responses(json(ref)) },
      put: { tags: [m.name], parameters: [id, { name: 'X-Timestamp', in: 'header', schema: { type: 'string' }, description: 'date_modified you read; a newer one answers 409 edit_conflict' }], requestBody: { content: { 'application/json': { schema: ref } } }, responses: { ...responses(json(ref)), 409: { description: 'edit_conflict', content: { 'application/json': { schema: error } } } } },
      delete: { tags: [m.name], parameters: [id], responses: responses(json({ type: 'object', properties: { id: { type: 'string' } } })) },
    };
    for (const link of Object.values(m.links)) {
      paths[`/${m.name}/{id}/link/${link.name}`] = { get: { tags: [m.name], summary: `${link.module} related through ${link.name}`, parameters: [id, ...listParams], responses: responses(json({ type: 'object', properties: { next_offset: { type: 'integer' }, records: { type: 'array', items: { $ref: `#/components/schemas/${link.module}` } } } })) } };
    }
  }
  paths['/oauth2/token'] = {
    post: {
      tags: ['Auth'], security: [],
      requestBody: { content: { 'application/json': { schema: { type: 'object', required: ['grant_type', 'client_id'], properties: { grant_type: { enum: ['password', 'refresh_token'] }, client_id: { enum: ['sugar'] }, client_secret: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' }, refresh_token: { type: 'string' }, platform: { type: 'string' } } } } } },
      responses: { 200: { description: 'tokens' }, 400: { description: 'invalid_grant / invalid_client / unsupported_grant_type' }, 401: { description: 'need_login' } },
    },
  };
  paths['/ping'] = { get: { tags: ['System'], responses: { 200: { description: '"pong"' } } } };
  paths['/me'] = { get: { tags: ['System'], responses: { 200: { description: 'current user' } } } };
  paths['/metadata'] = { get: { tags: ['System'], responses: { 200: { description: 'modules, fields, views, dropdowns, labels' } } } };
  const json = (schema: unknown) => ({ description: 'OK', content: { 'application/json': { schema } } });
  const q = (name: string, type: string, description: string) => ({ name, in: 'query', schema: { type }, description });
  paths['/globalsearch'] = {
    get: {
      tags: ['Search'], summary: 'Search names, e-mail addresses and phones across modules (Sugar 7 globalsearch)',
      parameters: [q('q', 'string', "text; % and * are wildcards"), q('module_list', 'string', 'comma-separated modules'), q('max_num', 'integer', 'page size'), q('offset', 'integer', 'first result')],
      responses: responses(json({ type: 'object', properties: { next_offset: { type: 'integer' }, total: { type: 'integer' }, records: { type: 'array', items: { type: 'object' } } } })),
    },
  };
  if (registry.modules.get('Leads')?.views.convert) {
    const lead = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
    paths['/Leads/{id}/convert'] = {
      get: { tags: ['Leads'], summary: 'What converting the lead would create: fields copied from it and likely duplicates, per module', parameters: [lead], responses: responses(json({ type: 'object' })) },
      post: {
        tags: ['Leads'], summary: 'Convert the lead (Sugar LeadConvertApi); 409 lead_converted if it was converted before', parameters: [lead],
        requestBody: { content: { 'application/json': { schema: { type: 'object', required: ['modules'], properties: {
          modules: { type: 'object', description: 'by module (Contacts, Accounts, Opportunities): the fields of a new record, or {"id"} of an existing one', additionalProperties: { type: 'object' } },
          transfer_activities: { type: 'boolean', description: "move the lead's calls, meetings, tasks and notes to the contact" },
        } } } } },
        responses: responses(json({ type: 'object', properties: { modules: { type: 'array', items: { type: 'object' } } } })),
      },
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Cane REST v10 (SugarCRM-compatible)', version: '10' },
    servers: [{ url: serverUrl }],
    components: {
      schemas,
      securitySchemes: { OAuthToken: { type: 'apiKey', in: 'header', name: 'OAuth-Token' }, Bearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ OAuthToken: [] }, { Bearer: [] }],
    paths,
  };
}
