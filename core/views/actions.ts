import fs from 'node:fs';
import path from 'node:path';
import type { ModuleDef, Registry } from '../metadata/registry';
import type { ModuleAction } from '../records/context';
import { readJsonFile } from '../metadata/json-file';

/** A detail-view button, list button or list mass action, declared in metadata/actions.json (and a module's metadata/actions.json). */
export interface ActionDef {
  label: string;
  acl: ModuleAction;
  href?: string;
  method?: 'get' | 'post';
  confirm?: string;
  primary?: boolean;
  /** Only on audited modules. */
  audited?: boolean;
  /** Shown on every detail view, not only when templateMeta.form.buttons names it. */
  always?: boolean;
  /** Handled by the UI itself (delete, massupdate, add_to_list, export). */
  builtin?: boolean;
  /** Limit to these modules. */
  modules?: string[];
  /** Check `acl` on this module instead of the one shown (Send SMS needs a right on SMS). */
  aclModule?: string;
  /** Hidden on a record whose field holds one of these values (Convert Lead on a converted lead). */
  hide_when?: Record<string, unknown[]>;
  /** A mass action that posts the selected rows to this URL instead of the list's own handler. */
  formAction?: string;
}

export interface ActionRegistry {
  detail: Record<string, ActionDef>;
  /** Buttons beside a list view's Create button. */
  list: Record<string, ActionDef>;
  mass: Record<string, ActionDef>;
}

/** Application actions merged with every module's own (modules/<M>/metadata/actions.json), so a module adds buttons without touching templates. */
export function loadActions(root: string, registry: Registry, customDir?: string): ActionRegistry {
  const result: ActionRegistry = { detail: {}, list: {}, mass: {} };
  const files = [path.join(root, 'metadata', 'actions.json')];
  for (const m of registry.modules.values()) {
    files.push(path.join(root, 'modules', m.name, 'metadata', 'actions.json'));
    if (customDir) files.push(path.join(customDir, 'modules', m.name, 'metadata', 'actions.json'));
  }
  if (customDir) files.push(path.join(customDir, 'metadata', 'actions.json'));
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    const data = readJsonFile(file) as Partial<ActionRegistry>;
    Object.assign(result.detail, data.detail ?? {});
    Object.assign(result.list, data.list ?? {});
    Object.assign(result.mass, data.mass ?? {});
  }
  return result;
}

export function appliesTo(action: ActionDef, module: ModuleDef): boolean {
  return (!action.modules || action.modules.includes(module.name)) && (!action.audited || module.audited);
}

export function fillHref(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => (key in values ? (key === 'base' ? values[key] : encodeURIComponent(values[key])) : ''));
}
