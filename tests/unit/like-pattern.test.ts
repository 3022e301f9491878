import { FilterError } from '../../core/errors';
import { likePattern, searchBoxText } from '../../core/query/like-pattern';

describe('LIKE patterns with Sugar\'s wildcard rules', () => {
  it('keeps a typed % as a wildcard and escapes _ and the escape character', () => {
    expect(likePattern('Finch', 'starts')).toBe('Finch%');
    expect(likePattern('%Finch', 'starts')).toBe('%Finch%');
    expect(likePattern('Fi%ch', 'exact')).toBe('Fi%ch');
    expect(likePattern('Fi%ch', 'ends')).toBe('%Fi%ch');
    expect(likePattern('100%', 'contains')).toBe('%100%');
    expect(likePattern('Gamma_Co', 'starts')).toBe('Gamma!_Co%');
    expect(likePattern('Wow!', 'exact')).toBe('Wow!!');
    expect(likePattern('a%%%b', 'exact')).toBe('a%b');
    expect(likePattern('', 'contains')).toBe('%');
  });

  it('refuses more than 8 wildcards, naming the field', () => {
    expect(likePattern('a%b%c%d%e%f%g', 'contains')).toBe('%a%b%c%d%e%f%g%');
    expect(() => likePattern('a%b%c%d%e%f%g%h', 'contains', 'name')).toThrow(new FilterError('name: at most 8 wildcards (%) are accepted in one search value'));
  });

  it('reads * as % in search-box text', () => {
    expect(searchBoxText('  Fi*ch* ')).toBe('Fi%ch%');
  });
});
