import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';

export interface ThemeInfo {
  name: string;
  label: string;
  /** Theme whose templates fill in what this one does not override (default: 'default'). */
  extends?: string;
  dir: string;
}

/**
 * Themes are folders of Handlebars templates and CSS under themes/. A theme may override any page
 * or partial and falls back to its parent (ultimately `default`) for the rest, so a theme can be
 * just a stylesheet. Templates are compiled once per theme.
 */
export class ThemeEngine {
  private readonly themes = new Map<string, ThemeInfo>();
  private readonly instances = new Map<string, { hbs: typeof Handlebars; pages: Map<string, Handlebars.TemplateDelegate> }>();

  constructor(readonly root: string, private readonly helpers: (hbs: typeof Handlebars) => void) {
    for (const name of fs.readdirSync(root)) {
      const dir = path.join(root, name);
      if (!fs.statSync(dir).isDirectory()) continue;
      const metaFile = path.join(dir, 'theme.json');
      const meta = fs.existsSync(metaFile) ? JSON.parse(fs.readFileSync(metaFile, 'utf8')) : {};
      this.themes.set(name, { name, label: meta.label ?? name, extends: meta.extends ?? (name === 'default' ? undefined : 'default'), dir });
    }
    if (!this.themes.has('default')) throw new Error(`no default theme in ${root}`);
  }

  list(): ThemeInfo[] {
    return [...this.themes.values()];
  }

  has(name: string): boolean {
    return this.themes.has(name);
  }

  /** The chain from the theme to 'default', most specific first. */
  chain(name: string): ThemeInfo[] {
    const chain: ThemeInfo[] = [];
    let current = this.themes.get(name) ?? this.themes.get('default')!;
    for (;;) {
      chain.push(current);
      if (!current.extends) break;
      const parent = this.themes.get(current.extends);
      if (!parent || chain.includes(parent)) break;
      current = parent;
    }
    return chain;
  }

  private instance(name: string) {
    const key = this.themes.has(name) ? name : 'default';
    let inst = this.instances.get(key);
    if (inst) return inst;
    const hbs = Handlebars.create();
    this.helpers(hbs);
    const pages = new Map<string, Handlebars.TemplateDelegate>();
    // Parents first, so the more specific theme's files replace them.
    for (const theme of [...this.chain(key)].reverse()) {
      for (const file of walk(theme.dir)) {
        if (!file.endsWith('.hbs')) continue;
        const rel = path.relative(theme.dir, file).replace(/\\/g, '/').replace(/\.hbs$/, '');
        const source = fs.readFileSync(file, 'utf8');
        if (rel.startsWith('pages/')) pages.set(rel.slice('pages/'.length), hbs.compile(source, { strict: false }));
        else hbs.registerPartial(rel.replace(/^partials\//, ''), source);
      }
    }
    inst = { hbs, pages };
    this.instances.set(key, inst);
    return inst;
  }

  /** Renders pages/<page>.hbs inside partial 'layout'. */
  render(theme: string, page: string, model: Record<string, unknown>): string {
    const inst = this.instance(theme);
    const template = inst.pages.get(page);
    if (!template) throw new Error(`theme ${theme} has no page ${page}`);
    const body = template(model);
    const layout = inst.hbs.partials.layout;
    const compiled = typeof layout === 'function' ? layout : inst.hbs.compile(layout);
    return compiled({ ...model, body: new Handlebars.SafeString(body) });
  }

  /** The file of a static asset, looked up through the theme chain. */
  asset(theme: string, file: string): string | undefined {
    if (!/^[\w.-]+$/.test(file)) return undefined;
    for (const t of this.chain(theme)) {
      const candidate = path.join(t.dir, 'assets', file);
      if (fs.existsSync(candidate)) return candidate;
    }
    return undefined;
  }
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return fs.statSync(full).isDirectory() ? walk(full) : [full];
  });
}
