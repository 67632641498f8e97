import { describe, expect, it } from 'vitest';
import { scoped } from './scoped';

describe('scoped class names', () => {
  const cx = scoped({ card: '_card_x1', selected: '_selected_x1' });

  it("maps the module's own classes and leaves shared ones as they are", () => {
    expect(cx('card tag selected')).toBe('_card_x1 tag _selected_x1');
  });

  it('drops false, null, undefined and empty parts, and extra spaces', () => {
    expect(cx('  card ', false, null, undefined, '', 'muted')).toBe('_card_x1 muted');
  });
});
