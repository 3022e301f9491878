import path from 'node:path';
import { toJson } from './php-array';
import { PhpScope } from './php-evaluator';
import { asList, fieldsToCane, isObject, stringsToCane, subpanelsToCane, type JsonObject } from './cane-shapes';
import type { ModuleFiles } from './module-files';
import type { ImportProblems } from './sugar-source';

/**
 * A module Cane ships keeps its files: each Sugar Extension fragment (custom/Extension/modules/<M>/Ext/
 * {Vardefs,Language,Layoutdefs}/<name>.php) becomes Cane's JSON fragment of the same name, which the
 * loader applies after the shipped module and custom/modules, in file-name order, as Sugar does.
 */
export function extensionFragments(
  files: ModuleFiles, problems: ImportProblems, subpanelColumnsOf: (module: string, name: string) => string[] | undefined,
): Map<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  const target = (kind: string, file: string) => `Extension/modules/${files.module}/Ext/${kind}/${path.basename(file, '.php')}.json`;
  for (const file of files.extensionFiles('Vardefs')) {
    const all = toJson(problems.evaluate([file]).vars.get('dictionary') ?? null);
    const dictionary = isObject(all) ? Object.values(all).find(isObject) : undefined;
    if (!dictionary) continue;
    const fragment: JsonObject = {};
    const fields = fieldsToCane(dictionary.fields);
    if (Object.keys(fields).length) fragment.fields = fields;
    if (isObject(dictionary.relationships) && Object.keys(dictionary.relationships).length) fragment.relationships = dictionary.relationships;
    const indices = asList(dictionary.indices).filter(isObject).map((i) => ({ ...i, fields: asList(i.fields) }));
    if (indices.length) fragment.indices = indices;
    if (Object.keys(fragment).length) out.set(target('Vardefs', file), fragment);
  }
  for (const file of files.extensionFiles('Language')) {
    const strings = toJson(problems.evaluate([file]).vars.get('mod_strings') ?? null);
    if (isObject(strings)) out.set(target('Language', file), stringsToCane(strings, (what, instead) => problems.note(file, what, instead)));
  }
  for (const file of files.extensionFiles('Layoutdefs')) {
    const scope = new PhpScope();
    scope.vars.set('module_name', files.module);
    const defs = toJson(problems.evaluate([file], scope).vars.get('layout_defs') ?? null);
    const own = isObject(defs) ? defs[files.module] : undefined;
    const setup = isObject(own) && isObject(own.subpanel_setup) ? own.subpanel_setup : undefined;
    if (!setup) continue;
    const subpanels = subpanelsToCane(setup, subpanelColumnsOf, (what, instead) => problems.note(file, what, instead));
    if (Object.keys(subpanels).length) out.set(target('Layoutdefs', file), { subpanel_setup: subpanels });
  }
  return out;
}
