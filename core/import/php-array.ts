/** A PHP value as the importer understands it: scalars and ordered arrays, nothing that runs. */
export type PhpValue = string | number | boolean | null | PhpArray;
export type PhpKey = string | number;

/** PHP's ordered array: insertion order kept, integer-like keys normalised, `[]` appends. */
export class PhpArray {
  readonly entries = new Map<PhpKey, PhpValue>();
  private nextIndex = 0;

  set(key: PhpKey | undefined, value: PhpValue): void {
    const k = key === undefined ? this.nextIndex : normaliseKey(key);
    if (typeof k === 'number' && k >= this.nextIndex) this.nextIndex = k + 1;
    this.entries.set(k, value);
  }

  get(key: PhpKey): PhpValue | undefined {
    return this.entries.get(normaliseKey(key));
  }

  /** PHP assigns arrays by value. */
  clone(): PhpArray {
    const copy = new PhpArray();
    for (const [k, v] of this.entries) copy.set(k, v instanceof PhpArray ? v.clone() : v);
    return copy;
  }
}

function normaliseKey(key: PhpKey): PhpKey {
  if (typeof key === 'string' && /^(0|-?[1-9][0-9]*)$/.test(key)) return Number(key);
  if (typeof key === 'number') return Math.trunc(key);
  return key;
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A list when the keys are 0..n-1 in order (as json_encode decides), otherwise an object in PHP's order. */
export function toJson(value: PhpValue): Json {
  if (!(value instanceof PhpArray)) return value;
  const keys = [...value.entries.keys()];
  if (keys.every((k, i) => k === i)) return [...value.entries.values()].map(toJson);
  const out: Record<string, Json> = {};
  for (const [k, v] of value.entries) out[String(k)] = toJson(v);
  return out;
}
