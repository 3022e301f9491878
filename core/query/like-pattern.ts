import { FilterError } from '../errors';

/**
 * LIKE patterns from search text, with Sugar's wildcard rules: `%` typed by the user is a wildcard
 * (SearchForm2 and sql_like_string pass it through), `*` too where the text comes from a search box
 * (Sugar's `search_wildcard_char` setting, and what users bring from Elasticsearch-backed search).
 * `_` and the escape character are taken literally: nobody types `_` meaning "any one character".
 * The escape character is '!', which MySQL and SQLite read the same way (a backslash they do not).
 */
export const LIKE_ESCAPE = '!';

/** More wildcards than this in one value is refused: each one multiplies the work LIKE does per row. */
export const MAX_WILDCARDS = 8;

export type LikeMode = 'starts' | 'ends' | 'contains' | 'exact';

/** The pattern for `value` (whose `%` are wildcards) matched as `mode`; runs of wildcards collapse into one. */
export function likePattern(value: string, mode: LikeMode, field = 'value'): string {
  const parts = value.split('%').map((part) => part.replace(/[!_]/g, (c) => `${LIKE_ESCAPE}${c}`));
  const body = parts.join('%').replace(/%{2,}/g, '%');
  const front = mode === 'ends' || mode === 'contains' ? '%' : '';
  const back = mode === 'starts' || mode === 'contains' ? '%' : '';
  const pattern = `${front}${body}${back}`.replace(/%{2,}/g, '%');
  const wildcards = (pattern.match(/%/g) ?? []).length;
  if (wildcards > MAX_WILDCARDS) throw new FilterError(`${field}: at most ${MAX_WILDCARDS} wildcards (%) are accepted in one search value`, { field, rule: 'wildcards' });
  return pattern;
}

/** Search-box text in the filter language: `*` becomes `%`, the wildcard the filters know. */
export function searchBoxText(text: string): string {
  return text.trim().replace(/\*/g, '%');
}
