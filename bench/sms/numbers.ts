/** Valid US numbers (exchange 200–999), distinct per offset. */
export const numbers = (n: number, offset: number) => Array.from({ length: n }, (_, i) => { const k = offset + i; return `+1415${200 + Math.floor(k / 10_000)}${String(k % 10_000).padStart(4, '0')}`; });
