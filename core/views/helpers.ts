import Handlebars from 'handlebars';

/** Template helpers. None returns unescaped record data: values go through {{ }} escaping. */
export function registerHelpers(hbs: typeof Handlebars): void {
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hbs.registerHelper('not', (a: unknown) => !a);
  hbs.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  hbs.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
  /** The partial of a field for a mode, falling back to the base partial of that mode. */
  hbs.registerHelper('fieldPartial', (partial: string, mode: string) => {
    const name = `fields/${partial}/${mode}`;
    return hbs.partials[name] ? name : `fields/base/${mode}`;
  });
  hbs.registerHelper('json', (value: unknown) => JSON.stringify(value));
}
