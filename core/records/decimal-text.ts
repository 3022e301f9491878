/**
 * Exact decimal arithmetic on digit strings, so that currency never passes through a binary
 * float on its way in or out: value = (negative ? -1 : 1) × digits × 10^exponent.
 */
export interface Decimal {
  negative: boolean;
  /** Significant digits: no leading or trailing zeros; '' for zero. */
  digits: string;
  exponent: number;
}

const DECIMAL_TEXT = /^([-+]?)(\d*)(?:\.(\d*))?(?:e([-+]?\d+))?$/i;

/** Parses decimal or scientific notation ('-12.50', '.5', '2.5e3'); undefined for anything else. */
export function parseDecimal(text: string): Decimal | undefined {
  const match = DECIMAL_TEXT.exec(text);
  if (!match) return undefined;
  const [, sign, whole, fraction = '', exponentText = '0'] = match;
  if (!whole && !fraction) return undefined;
  const all = `${whole}${fraction}`;
  const leading = all.search(/[1-9]/);
  if (leading < 0) return { negative: false, digits: '', exponent: 0 };
  const trimmed = all.slice(leading).replace(/0+$/, '');
  const trailingZeros = all.length - leading - trimmed.length;
  return { negative: sign === '-', digits: trimmed, exponent: Number(exponentText) - fraction.length + trailingZeros };
}

/** Digits before the decimal point (0 for |value| < 1). */
export function integerDigits(value: Decimal): number {
  return value.digits ? Math.max(0, value.digits.length + value.exponent) : 0;
}

/** Digits after the decimal point that are needed to write the value exactly. */
export function fractionDigits(value: Decimal): number {
  return Math.max(0, -value.exponent);
}

/** Rounds half away from zero (Sugar's and MySQL's rounding of DECIMAL) to `scale` places. */
export function roundDecimal(value: Decimal, scale: number): Decimal {
  const drop = fractionDigits(value) - scale;
  if (drop <= 0) return value;
  if (drop > value.digits.length) return { negative: false, digits: '', exponent: 0 };
  const kept = value.digits.slice(0, value.digits.length - drop) || '0';
  const roundUp = value.digits[value.digits.length - drop] >= '5';
  const digits = roundUp ? increment(kept) : kept;
  return parseDecimal(`${value.negative ? '-' : ''}${digits}e${-scale}`)!;
}

/** Plain notation with exactly `scale` places; the value must already fit them. */
export function formatDecimal(value: Decimal, scale: number): string {
  if (!value.digits) return scale ? `0.${'0'.repeat(scale)}` : '0';
  const scaled = (value.digits + '0'.repeat(value.exponent + scale)).padStart(scale + 1, '0');
  const whole = scaled.slice(0, scaled.length - scale);
  const fraction = scaled.slice(scaled.length - scale);
  return `${value.negative ? '-' : ''}${whole}${scale ? `.${fraction}` : ''}`;
}

function increment(digits: string): string {
  const chars = digits.split('');
  for (let i = chars.length - 1; i >= 0; i--) {
    if (chars[i] !== '9') {
      chars[i] = String(Number(chars[i]) + 1);
      return chars.join('');
    }
    chars[i] = '0';
  }
  return `1${chars.join('')}`;
}
