import type { LayoutCell } from './types';

/** The field a layout cell shows: a cell is a field name, an object with `name`, or empty. */
export function cellName(cell: LayoutCell): string | undefined {
  return typeof cell === 'string' ? cell || undefined : cell?.name;
}

/** The label key a layout cell gives instead of its field's vname. */
export function cellLabel(cell: LayoutCell): string | undefined {
  return typeof cell === 'object' && cell ? cell.label : undefined;
}
