import { SYSTEM } from '../../core/records/actor';
import { describeEachEngine } from '../helpers/engine';

describeEachEngine('text operators take NUL as a character', (get) => {
  beforeAll(async () => {
    for (const name of ['nul plain', 'nul a\u0000b', 'nul x\u0000yz']) await get().records.create(SYSTEM, 'Accounts', { name });
  });
  const names = async (filter: unknown[]) => (await get().records.list(SYSTEM, 'Accounts', { filter: [{ name: { $starts: 'nul' } }, ...filter] as never, maxNum: 50, orderBy: [{ field: 'name', direction: 'asc' }] })).records.map((r) => r.name);

  it('matches NUL in $contains, $not_contains, $starts and $ends instead of matching everything', async () => {
    expect(await names([{ name: { $contains: '\u0000' } }])).toEqual(['nul a\u0000b', 'nul x\u0000yz']);
    expect(await names([{ name: { $contains: 'A\u0000B' } }])).toEqual(['nul a\u0000b']);
    expect(await names([{ name: { $not_contains: '\u0000' } }])).toEqual(['nul plain']);
    expect(await names([{ name: { $starts: 'NUL X\u0000' } }])).toEqual(['nul x\u0000yz']);
    expect(await names([{ name: { $ends: '\u0000b' } }])).toEqual(['nul a\u0000b']);
    expect(await names([{ name: { $contains: 'plain' } }])).toEqual(['nul plain']);
  });
});
