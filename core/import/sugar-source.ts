import fs from 'node:fs';
import path from 'node:path';
import { evaluatePhp, parsePhp, PhpScope, type SkippedConstruct } from './php-evaluator';

/** Where the parts of a Sugar/SuiteCRM tree are, whichever of its folders the user named. */
export interface SugarSource {
  /** The folder paths in the report are relative to. */
  base: string;
  /** Folder holding module folders (modules/), if the source has one. */
  modulesDir?: string;
  /** Only this module of modulesDir (a modules/<Module> folder was given). */
  onlyModule?: string;
  /** Sugar's custom/ tree, if the source has one. */
  customDir?: string;
  /** Folders of join-table definitions (metadata/*MetaData.php). */
  metadataDirs: string[];
  /** Files defining $app_list_strings / $app_strings, in load order. */
  appLanguageFiles: string[];
  /** The subset of appLanguageFiles that are customisations (all their dropdowns are carried over). */
  customAppLanguageFiles: string[];
}

export function locateSugarSource(input: string, language: string): SugarSource {
  const dir = path.resolve(input);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${input} is not a folder`);
  if (fs.existsSync(path.join(dir, 'vardefs.php'))) {
    const moduleBuilderApp = path.join(dir, 'language', 'application', `${language}.lang.php`);
    return {
      base: path.dirname(dir), modulesDir: path.dirname(dir), onlyModule: path.basename(dir), metadataDirs: [],
      appLanguageFiles: existing([moduleBuilderApp]), customAppLanguageFiles: existing([moduleBuilderApp]),
    };
  }
  const isCustomTree = path.basename(dir) === 'custom' || fs.existsSync(path.join(dir, 'Extension'));
  if (isCustomTree) {
    const custom = customAppFiles(dir, language);
    return { base: dir, customDir: dir, metadataDirs: existing([path.join(dir, 'metadata')]), appLanguageFiles: custom, customAppLanguageFiles: custom };
  }
  if (!fs.existsSync(path.join(dir, 'modules'))) throw new Error(`${input} is neither a Sugar installation (no modules/), a module folder (no vardefs.php) nor a custom/ tree`);
  const customDir = fs.existsSync(path.join(dir, 'custom')) ? path.join(dir, 'custom') : undefined;
  const custom = customDir ? customAppFiles(customDir, language) : [];
  return {
    base: dir,
    modulesDir: path.join(dir, 'modules'),
    customDir,
    metadataDirs: existing([path.join(dir, 'metadata'), ...(customDir ? [path.join(customDir, 'metadata')] : [])]),
    appLanguageFiles: [...existing([path.join(dir, 'include', 'language', `${language}.lang.php`)]), ...custom],
    customAppLanguageFiles: custom,
  };
}

function customAppFiles(customDir: string, language: string): string[] {
  return [
    ...existing([path.join(customDir, 'include', 'language', `${language}.lang.php`)]),
    ...phpFiles(path.join(customDir, 'Extension', 'application', 'Ext', 'Language')).filter((f) => path.basename(f).startsWith(`${language}.`)),
  ];
}

function existing(files: string[]): string[] {
  return files.filter((f) => fs.existsSync(f));
}

/** The .php files of a folder, sorted as Sugar's extension compiler reads them. */
export function phpFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.php')).sort().map((f) => path.join(dir, f));
}

export function subfolders(dir: string | undefined): string[] {
  if (!dir || !fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** What reading the source found wrong: constructs left out, and files that are not PHP. */
export class ImportProblems {
  readonly skipped: SkippedConstruct[] = [];
  readonly notPhp: string[] = [];

  constructor(private readonly base: string) {}

  relative(file: string): string {
    return path.relative(this.base, file) || file;
  }

  /** Evaluates each existing file into one scope, in order, as Sugar includes them one after another. */
  evaluate(files: string[], scope = new PhpScope()): PhpScope {
    for (const file of files) {
      if (!fs.existsSync(file)) continue;
      const program = parsePhp(fs.readFileSync(file, 'utf8'), file);
      if (!program) {
        this.notPhp.push(this.relative(file));
        continue;
      }
      evaluatePhp(program, this.relative(file), scope, this.skipped);
    }
    return scope;
  }

  note(file: string, what: string, instead: string): void {
    this.skipped.push({ file: this.relative(file), line: 0, what, instead });
  }
}
