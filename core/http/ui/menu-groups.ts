import fs from 'node:fs';
import path from 'node:path';

/** A page of Cane's own under an admin group (Plugins), shown when the service it needs is running. */
export interface MenuPage { label: string; path: string; requires?: 'plugins' }

export interface MenuGroup {
  id: string;
  label: string;
  modules: string[];
  /** Modules no group names land here. */
  fallback?: boolean;
  /** Shown only to administrators; its modules are shown nowhere else. */
  admin?: boolean;
  pages?: MenuPage[];
}

export interface MenuGroups { groups: MenuGroup[]; hidden: string[] }

/** metadata/menu-groups.json, or custom/metadata/menu-groups.json when an implementer regrouped the menu. */
export function loadMenuGroups(root: string, customDir?: string): MenuGroups {
  const custom = customDir ? path.join(customDir, 'metadata', 'menu-groups.json') : undefined;
  const file = custom && fs.existsSync(custom) ? custom : path.join(root, 'metadata', 'menu-groups.json');
  return checkMenuGroups(JSON.parse(fs.readFileSync(file, 'utf8')), file);
}

/** Refuses a file the menu could not be built from, naming the file, the entry and the problem. */
export function checkMenuGroups(raw: unknown, file: string): MenuGroups {
  const fail = (where: string, problem: string): never => { throw new Error(`${file}: ${where} ${problem}`); };
  const data = raw as { groups?: unknown; hidden?: unknown };
  if (!data || !Array.isArray(data.groups) || !data.groups.length) fail('groups', 'must be a non-empty array');
  const groups = (data.groups as unknown[]).map((g, i) => {
    const group = g as Partial<MenuGroup>;
    if (!group || typeof group.id !== 'string' || !/^[\w-]+$/.test(group.id)) fail(`groups[${i}].id`, 'must be a word (letters, digits, _ or -)');
    if (typeof group.label !== 'string' || !group.label) fail(`groups[${i}].label`, 'must be a non-empty string');
    if (!Array.isArray(group.modules) || group.modules.some((m) => typeof m !== 'string')) fail(`groups[${i}].modules`, 'must be an array of module names');
    for (const [j, p] of (group.pages ?? []).entries()) {
      if (typeof p?.label !== 'string' || typeof p.path !== 'string' || !/^[\w/-]+$/.test(p.path)) fail(`groups[${i}].pages[${j}]`, 'needs a label and a path of letters, digits, _, - and /');
    }
    return group as MenuGroup;
  });
  if (groups.filter((g) => g.fallback).length !== 1) fail('groups', 'must mark exactly one group "fallback": true (where modules no group names land)');
  if (groups.find((g) => g.fallback)?.admin) fail('groups', 'fallback group cannot be an admin group');
  const hidden = data.hidden ?? [];
  if (!Array.isArray(hidden) || hidden.some((m) => typeof m !== 'string')) fail('hidden', 'must be an array of module names');
  return { groups, hidden: hidden as string[] };
}

export interface MenuItem { name: string; label: string; href: string; current: boolean }
export interface BuiltGroup { id: string; label: string; current: boolean; items: MenuItem[] }

/**
 * The groups a user sees: the modules they may access, in the declared order, unknown modules in the
 * fallback group, admin groups only for administrators; empty groups are left out.
 */
export function buildMenu(config: MenuGroups, accessible: string[], options: {
  isAdmin: boolean; base: string; current?: string; label: (module: string) => string; services: { plugins: boolean };
}): BuiltGroup[] {
  const allowed = new Set(accessible.filter((m) => !config.hidden.includes(m)));
  const claimed = new Set(config.groups.flatMap((g) => g.modules));
  const adminModules = new Set(config.groups.filter((g) => g.admin).flatMap((g) => g.modules));
  const item = (name: string, label: string, href: string): MenuItem => ({ name, label, href, current: options.current === name });
  const result: BuiltGroup[] = [];
  for (const group of config.groups) {
    if (group.admin && !options.isAdmin) continue;
    const names = group.modules.filter((m) => allowed.has(m) && (group.admin || !adminModules.has(m)));
    if (group.fallback) names.push(...accessible.filter((m) => allowed.has(m) && !claimed.has(m)).sort((a, b) => options.label(a).localeCompare(options.label(b))));
    const items = names.map((m) => item(m, options.label(m), `${options.base}/${m}`));
    for (const page of group.pages ?? []) {
      if (page.requires === 'plugins' && !options.services.plugins) continue;
      items.push(item(page.label, page.label, `${options.base}/${page.path}`));
    }
    if (items.length) result.push({ id: group.id, label: group.label, current: items.some((i) => i.current), items });
  }
  return result;
}

/** The group a module is shown under, for breadcrumbs (undefined when hidden from the menu). */
export function groupOf(config: MenuGroups, module: string): MenuGroup | undefined {
  if (config.hidden.includes(module)) return undefined;
  return config.groups.find((g) => g.modules.includes(module) || (g.pages ?? []).some((p) => p.label === module)) ?? config.groups.find((g) => g.fallback);
}
