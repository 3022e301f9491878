import type Router from '@koa/router';
import type { Context } from 'koa';
import { AccessDeniedError, CaneError, NotFoundError } from '../../errors';
import type { PluginManifest } from '../../plugins/manifest';
import { PluginAdminError } from '../../plugins/plugin-admin';
import type { PluginHost } from '../../plugins/plugin-host';
import { requiredSettings, settingDefs, settingType, settingValue, type SettingDef } from '../../plugins/settings-input';
import { readFormData, type FormData } from './forms';
import type { Ui } from './ui-context';

const ORIGIN_LABELS = { 'built-in': 'Built-in', folder: 'Plugins folder', installed: 'Installed' } as const;

/** A settings form that was refused: what the user typed and the message for the field it concerns. */
interface TypedSettings {
  pluginId: string;
  form: FormData;
  setting: string;
  message: string;
}

/** Form field names carry a prefix so a setting can never be called like the CSRF field. */
const fieldName = (setting: string) => `s.${setting}`;
const clearName = (setting: string) => `clear.${setting}`;

/** The settings form of one plugin, generated from its manifest's JSON Schema. */
function settingsForm(ui: Ui, ctx: Context, id: string, manifest: PluginManifest, values: Record<string, unknown>, typed: TypedSettings | undefined) {
  const defs = settingDefs(manifest);
  const required = requiredSettings(manifest);
  const mine = typed?.pluginId === id ? typed : undefined;
  const fields = Object.entries(defs).map(([name, def], i) => {
    const type = settingType(def);
    const current = name in values ? values[name] : def.default;
    const shown = mine ? mine.form.get(fieldName(name)) ?? '' : current === undefined || current === null ? '' : typeof current === 'object' ? JSON.stringify(current) : String(current);
    const kind = def.secret ? 'password' : def.enum ? 'select' : type === 'boolean' ? 'checkbox' : type === 'number' || type === 'integer' ? 'number' : type === 'array' || type === 'object' ? 'json' : 'text';
    const error = mine && mine.setting === name ? mine.message : undefined;
    return {
      name, kind, label: def.title ?? name, description: def.description, required: required.includes(name),
      input: fieldName(name), clear: clearName(name), inputId: `set-${id}-${i}`.replace(/[^\w-]/g, '_'), errorId: `err-set-${id}-${i}`.replace(/[^\w-]/g, '_'),
      value: def.secret ? '' : shown,
      checked: kind === 'checkbox' && (mine ? mine.form.has(fieldName(name)) : current === true),
      step: type === 'integer' ? '1' : 'any',
      secretSet: Boolean(def.secret && values[name] !== undefined && values[name] !== ''),
      options: kind === 'select' ? [{ value: '', label: '', selected: shown === '' }, ...(def.enum ?? []).map((e) => ({ value: String(e), label: String(e), selected: String(e) === shown }))] : [],
      error,
      isPassword: kind === 'password', isSelect: kind === 'select', isCheckbox: kind === 'checkbox', isNumber: kind === 'number', isJson: kind === 'json', isText: kind === 'text',
    };
  });
  if (!fields.length) return undefined;
  return {
    action: `${ui.base(ctx)}/plugins/${encodeURIComponent(id)}/settings`,
    fields,
    formError: mine && !fields.some((f) => f.name === mine.setting) ? mine.message : undefined,
  };
}

/** The changes a settings form asks for: empty fields go back to the default, empty secrets stay as they are. */
function changesFrom(manifest: PluginManifest, form: FormData): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(settingDefs(manifest)) as Array<[string, SettingDef]>) {
    const raw = form.get(fieldName(name));
    if (def.secret) {
      if (form.has(clearName(name))) changes[name] = undefined;
      else if (raw) changes[name] = raw;
      continue;
    }
    if (settingType(def) === 'boolean' && !def.enum) changes[name] = form.has(fieldName(name));
    else changes[name] = raw === undefined || raw === '' ? undefined : settingValue(def, raw);
  }
  return changes;
}

/** /ui/plugins: every plugin with its state, hooks, backlog, recent host calls and settings (administrators only). */
export function pluginsPage(router: Router, ui: Ui): void {
  const host = (ctx: Context): PluginHost => {
    const actor = ui.actor(ctx);
    if (actor.type !== 'user' || !actor.isAdmin) throw new AccessDeniedError('Only administrators may manage plugins.');
    if (!ui.services.plugins) throw new NotFoundError('Plugins are turned off in this Cane.');
    return ui.services.plugins;
  };

  async function show(ctx: Context, notice?: string, typed?: TypedSettings, status = 200) {
    const plugins = host(ctx);
    const { loaded, refused } = await plugins.describe();
    const known = await plugins.admin.known();
    const base = `${ui.base(ctx)}/plugins`;
    const rows = [];
    for (const p of loaded) {
      const manifest = plugins.loaded.find((l) => l.manifest.id === p.id)?.manifest;
      rows.push({
        ...p,
        description: manifest?.description,
        originLabel: ORIGIN_LABELS[p.origin as keyof typeof ORIGIN_LABELS] ?? p.origin,
        installed: p.origin === 'installed',
        toggleAction: `${base}/${encodeURIComponent(p.id)}/enabled`,
        hooks: p.hooks.map((h) => ({ ...h, toggleAction: `${base}/${encodeURIComponent(p.id)}/enabled` })),
        calls: await plugins.admin.recentCalls(p.id, 20),
        settings: manifest ? settingsForm(ui, ctx, p.id, manifest, plugins.settingsOf(p.id), typed) : undefined,
      });
    }
    const refusedRows = refused.map((r) => {
      const k = r.id ? known.find((x) => x.id === r.id) : undefined;
      // A plugin refused for its settings is fixed here, so its form is shown with it.
      const loadedElsewhere = r.id ? loaded.some((l) => l.id === r.id) : false;
      return { ...r, settings: k && !loadedElsewhere ? settingsForm(ui, ctx, k.id, k.manifest, plugins.settingsOf(k.id), typed) : undefined };
    });
    await ui.render(ctx, 'plugins', { title: 'Plugins', moduleName: 'Plugins', plugins: rows, refused: refusedRows, notice }, status);
  }

  router.get('/plugins', async (ctx) => {
    await show(ctx, typeof ctx.query.notice === 'string' ? ctx.query.notice.slice(0, 300) : undefined);
  });

  async function checkedForm(ctx: Context): Promise<FormData> {
    host(ctx);
    const form = await readFormData(ctx, ui.services.bodyLimit);
    if (!ui.sessions.checkCsrf(ctx, form.get('csrf'))) throw new CaneError('invalid_parameter', 'The form had no valid security token; nothing was changed. Reload the page and try again.', 403);
    return form;
  }

  router.post('/plugins/:id/enabled', async (ctx) => {
    const form = await checkedForm(ctx);
    const id = ctx.params.id;
    const hook = form.get('hook') || '*';
    const enabled = form.get('enabled') === '1';
    await host(ctx).admin.setEnabled(id, hook, enabled);
    const notice = `${id}${hook === '*' ? '' : ` ${hook}`} ${enabled ? 'enabled' : 'disabled'}.`;
    ctx.redirect(`${ui.base(ctx)}/plugins?notice=${encodeURIComponent(notice)}`);
  });

  router.post('/plugins/:id/settings', async (ctx) => {
    const form = await checkedForm(ctx);
    const id = ctx.params.id;
    const plugins = host(ctx);
    const { manifest } = await plugins.admin.plugin(id);
    try {
      await plugins.admin.saveSettings(id, changesFrom(manifest, form), `ui:${ctx.state.user.user_name}`);
    } catch (err) {
      if (!(err instanceof PluginAdminError)) throw err;
      return show(ctx, undefined, { pluginId: id, form, setting: err.setting ?? '', message: err.message }, 422);
    }
    ctx.redirect(`${ui.base(ctx)}/plugins?notice=${encodeURIComponent(`Settings of ${id} saved.`)}`);
  });
}
