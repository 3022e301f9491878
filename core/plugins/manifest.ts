import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import type { ErrorObject } from 'ajv';
import type { Registry } from '../metadata/registry';
import { packageRoot } from '../paths';
import type { PluginLimits } from './limits';
import { BUILT_IN_WORKFLOW_ACTIONS, parameterSchemaProblem } from './workflow-actions';

export interface HookDecl {
  module: string;
  event: string;
  handler: string;
  priority?: number;
  onError?: 'allow' | 'block';
  /** After-events: 'ordered' puts the hook in its plugin's lane (one event at a time, in commit order). */
  delivery?: 'unordered' | 'ordered';
  limits?: Partial<PluginLimits>;
}

export interface PluginManifest {
  id: string;
  name: string;
  version: string;
  apiVersion: number;
  description?: string;
  entry: string;
  hooks?: HookDecl[];
  schedules?: Array<{ handler: string; cron: string; delivery?: 'unordered' | 'ordered' }>;
  permissions?: string[];
  settings?: { properties?: Record<string, { secret?: boolean; default?: unknown }> } & Record<string, unknown>;
  limits?: Partial<PluginLimits>;
  /** Action types added to workflows (see workflow-actions.ts). */
  workflowActions?: Array<{ name: string; label: string; description?: string; handler: string; parameters: Record<string, unknown> }>;
}

/** A plugin that passed every check at load, with its code. */
export interface LoadedPlugin {
  manifest: PluginManifest;
  /** id@version: one isolate per key. */
  key: string;
  dir: string;
  code: string;
  builtIn: boolean;
  permissions: ReadonlySet<string>;
}

export interface RefusedPlugin {
  dir: string;
  id?: string;
  problem: string;
}

export const HOST_API_VERSION = 1;

let validateManifest: ReturnType<Ajv['compile']> | undefined;
function validator() {
  if (!validateManifest) {
    const schema = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'metadata', 'schemas', 'plugin-manifest.schema.json'), 'utf8'));
    validateManifest = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  return validateManifest;
}

/**
 * Reads and checks one plugin folder. Problems never stop the server: the plugin is refused
 * with a message naming it and what is wrong.
 */
export function loadPlugin(dir: string, registry: Registry, builtIn: boolean): LoadedPlugin | RefusedPlugin {
  const manifestFile = path.join(dir, 'plugin.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  } catch (err) {
    return { dir, problem: `plugin.json is missing or not valid JSON: ${(err as Error).message}` };
  }
  const checked = checkManifest(parsed, registry);
  if ('problem' in checked) return { dir, ...checked };
  const manifest = checked;
  const refuse = (problem: string): RefusedPlugin => ({ dir, id: manifest.id, problem });
  const entry = path.resolve(dir, manifest.entry);
  if (!entry.startsWith(path.resolve(dir) + path.sep)) return refuse(`entry '${manifest.entry}' is outside the plugin folder`);
  if (!fs.existsSync(entry)) return refuse(`entry file '${manifest.entry}' does not exist`);
  const code = fs.readFileSync(entry, 'utf8');
  return pluginOf(manifest, code, dir, builtIn);
}

/** A checked manifest and its code as a plugin ready to load. */
export function pluginOf(manifest: PluginManifest, code: string, dir: string, builtIn: boolean): LoadedPlugin {
  return { manifest, key: `${manifest.id}@${manifest.version}`, dir, code, builtIn, permissions: new Set(manifest.permissions ?? []) };
}

/**
 * The checks of a parsed plugin.json that do not need its folder: the manifest schema, the host
 * API version, and that permissions, hooks and schedules name what exists here.
 */
export function checkManifest(value: unknown, registry: Registry): PluginManifest | { id?: string; problem: string } {
  const validate = validator();
  if (!validate(value)) {
    const e = validate.errors![0];
    const detail = e.keyword === 'additionalProperties' ? `unknown key '${(e.params as { additionalProperty: string }).additionalProperty}'`
      : e.keyword === 'enum' ? `${e.message}: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}` : e.message;
    const id = (value as { id?: unknown } | null)?.id;
    return { id: typeof id === 'string' ? id : undefined, problem: `plugin.json${e.instancePath ? ` at ${e.instancePath}` : ''}: ${detail}` };
  }
  const manifest = value as PluginManifest;
  const refuse = (problem: string) => ({ id: manifest.id, problem });
  if (manifest.apiVersion !== HOST_API_VERSION) return refuse(`apiVersion ${manifest.apiVersion} is not supported (this Cane provides ${HOST_API_VERSION})`);
  for (const permission of manifest.permissions ?? []) {
    const module = /^(?:read|write):([A-Za-z]\w*)/.exec(permission)?.[1];
    if (module && !registry.modules.has(module)) return refuse(`permission '${permission}' names an unknown module '${module}'`);
    const field = /#(\w+)$/.exec(permission)?.[1];
    if (module && field && !registry.module(module).fields[field]) return refuse(`permission '${permission}' names an unknown field '${field}' of ${module}`);
  }
  for (const hook of manifest.hooks ?? []) {
    if (hook.module !== '*' && !registry.modules.has(hook.module)) return refuse(`hook ${hook.handler} is for an unknown module '${hook.module}'`);
    if (hook.delivery && hook.event.startsWith('before_')) return refuse(`hook ${hook.handler}: delivery '${hook.delivery}' applies to after-events; ${hook.event} runs inside the save`);
  }
  if ((manifest.schedules ?? []).length && !(manifest.permissions ?? []).includes('schedule')) return refuse("it declares schedules but not the 'schedule' permission");
  for (const action of manifest.workflowActions ?? []) {
    if (BUILT_IN_WORKFLOW_ACTIONS.includes(action.name)) return refuse(`workflow action '${action.name}' is built in; choose another name`);
    if ((manifest.workflowActions ?? []).filter((a) => a.name === action.name).length > 1) return refuse(`workflow action '${action.name}' is declared twice`);
    const schemaProblem = parameterSchemaProblem(action.parameters);
    if (schemaProblem) return refuse(`workflow action '${action.name}': its parameters are not a valid JSON Schema: ${schemaProblem}`);
  }
  for (const sched of manifest.schedules ?? []) {
    if (sched.cron.trim().split(/\s+/).length !== 5 || !/^[\d*/,\-\s]+$/.test(sched.cron)) return refuse(`schedule '${sched.cron}' is not a five-field cron expression`);
  }
  return manifest;
}

/** Every plugin folder (one containing plugin.json) under the given directories. */
export function discoverPlugins(dirs: Array<{ dir: string; builtIn: boolean }>, registry: Registry): { loaded: LoadedPlugin[]; refused: RefusedPlugin[] } {
  const loaded: LoadedPlugin[] = [];
  const refused: RefusedPlugin[] = [];
  for (const { dir, builtIn } of dirs) {
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir).sort()) {
      const folder = path.join(dir, name);
      if (!fs.existsSync(path.join(folder, 'plugin.json'))) continue;
      const result = loadPlugin(folder, registry, builtIn);
      if ('problem' in result) refused.push(result);
      else if (loaded.some((p) => p.manifest.id === result.manifest.id)) refused.push({ dir: folder, id: result.manifest.id, problem: 'another plugin with this id is already loaded' });
      else loaded.push(result);
    }
  }
  return { loaded, refused };
}

/** Settings as the isolate sees them: values of properties marked secret are left out. */
export function publicSettings(manifest: PluginManifest, values: Record<string, unknown>): Record<string, unknown> {
  const props = manifest.settings?.properties ?? {};
  const result: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(props)) {
    if (def.secret) continue;
    result[name] = name in values ? values[name] : def.default;
  }
  return result;
}

/** Settings values are checked against the manifest's JSON Schema; answers the first problem, naming the setting. */
export function checkSettings(manifest: PluginManifest, values: Record<string, unknown>): string | undefined {
  return settingsProblem(manifest, values)?.message;
}

/** The first settings problem with the setting it concerns ('' when it is not about one setting). */
export function settingsProblem(manifest: PluginManifest, values: Record<string, unknown>): { setting: string; message: string } | undefined {
  const schema = manifest.settings;
  if (!schema) return undefined;
  try {
    const validate = new Ajv({ allErrors: true, strict: false }).compile({ type: 'object', ...schema });
    if (validate(values)) return undefined;
    return describeSettingsError(validate.errors![0]);
  } catch (err) {
    return { setting: '', message: `the settings schema is not valid JSON Schema: ${(err as Error).message}` };
  }
}

function describeSettingsError(e: ErrorObject): { setting: string; message: string } {
  const where = e.instancePath ? ` at ${e.instancePath}` : '';
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return { setting: missing, message: `settings: '${missing}' is required` };
  }
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return { setting: extra, message: `settings: unknown setting '${extra}'` };
  }
  const setting = e.instancePath.split('/')[1]?.replace(/~1/g, '/').replace(/~0/g, '~') ?? '';
  const allowed = e.keyword === 'enum' ? `: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}` : '';
  return { setting, message: `settings${where}: ${e.message}${allowed}` };
}

/** A hook or schedule naming a handler the entry file did not define, said by name (undefined when all are there). */
export function missingHandler(manifest: PluginManifest, defined: readonly string[] | undefined): string | undefined {
  if (!defined) return undefined;
  const names = [...(manifest.hooks ?? []).map((h) => h.handler), ...(manifest.schedules ?? []).map((s) => s.handler), ...(manifest.workflowActions ?? []).map((a) => a.handler)];
  const missing = names.find((n) => !defined.includes(n));
  return missing ? `the manifest names handler '${missing}', which the entry file does not define in definePlugin({ hooks })` : undefined;
}
