import fs from 'node:fs';
import path from 'node:path';
import { deepMerge } from '../metadata/merge';
import type { JsonObject } from './cane-shapes';

export type FileOutcome = { file: string; status: 'new' | 'changed' | 'unchanged'; changedKeys: string[] };

/**
 * Writes each file into the overlay, merged over what is there (objects key by key, lists replaced),
 * and only when the text differs, so importing the same source twice changes nothing. With dryRun
 * nothing is written; the outcome says what would change.
 */
export function writeOverlay(customDir: string, files: Map<string, JsonObject>, dryRun: boolean): FileOutcome[] {
  const outcomes: FileOutcome[] = [];
  for (const [relative, content] of [...files.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const target = path.join(customDir, relative);
    const before = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
    const previous = before === undefined ? undefined : (safeParse(before) as JsonObject | undefined);
    const merged = previous ? deepMerge(previous, content) : content;
    const text = `${JSON.stringify(merged, null, 2)}\n`;
    const status = before === undefined ? 'new' : before === text ? 'unchanged' : 'changed';
    outcomes.push({ file: relative, status, changedKeys: status === 'changed' ? changedPaths(previous, merged) : [] });
    if (status !== 'unchanged' && !dryRun) {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, text);
    }
  }
  return outcomes;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** JSON pointers (three levels deep at most) whose value differs: the diff summary of a changed file. */
function changedPaths(before: unknown, after: unknown, prefix = '', depth = 0): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const objects = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (depth >= 3 || !objects(before) || !objects(after)) return [prefix || '/'];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].flatMap((k) => changedPaths(before[k], after[k], `${prefix}/${k}`, depth + 1));
}
