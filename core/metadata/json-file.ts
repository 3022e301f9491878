import fs from 'node:fs';
import { MetadataError } from '../errors';

/** Reads a JSON metadata file; a syntax error names the file, line and column. */
export function readJsonFile(file: string): unknown {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const position = /position (\d+)/.exec(message);
    let where = '';
    if (position) {
      const before = text.slice(0, Number(position[1]));
      const line = before.split('\n').length;
      where = ` (line ${line}, column ${Number(position[1]) - before.lastIndexOf('\n')})`;
    }
    throw new MetadataError(file, '', 'json', `not valid JSON${where}: ${message}`);
  }
}

export function readJsonIfExists(file: string): unknown | undefined {
  return fs.existsSync(file) ? readJsonFile(file) : undefined;
}
