import { describe, expect, it, vi } from 'vitest';
import type { Access, ChildView, MemberViewStatus } from 'pogo-core/observer-state';
import { scoped, scopedWith } from './scoped';
import ui from './ui.module.css';

describe('scoped class names', () => {
  const shared = { tag: '_tag_u1', muted: '_muted_u1' };
  const cx = scopedWith({ card: '_card_x1', selected: '_selected_x1' }, shared, 'throw');

  it("maps the module's own classes, and the shared ones to the shared module's", () => {
    expect(cx('card tag selected')).toBe('_card_x1 _tag_u1 _selected_x1');
  });

  it('prefers the feature module when both define a name', () => {
    expect(scopedWith({ tag: '_tag_x1' }, shared, 'throw')('tag')).toBe('_tag_x1');
  });

  it('drops false, null, undefined and empty parts, and extra spaces', () => {
    expect(cx('  card ', false, null, undefined, '', 'muted')).toBe('_card_x1 _muted_u1');
  });

  it('rejects a name neither module defines (a typo), or logs it, or leaves it as written', () => {
    expect(() => cx('card tga')).toThrow('class "tga"');
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(scopedWith({}, shared, 'log')('tga tag')).toBe('tga _tag_u1');
    expect(error).toHaveBeenCalledWith(expect.stringContaining('class "tga"'));
    error.mockRestore();
    expect(scopedWith({}, shared, 'keep')('tga tag')).toBe('tga _tag_u1');
  });

  it('is strict in tests, and scoped() alone gives the shared names', () => {
    expect(scoped()('tag warn')).toBe(`${ui.tag} ${ui.warn}`);
    expect(() => scoped()('no-such-class')).toThrow('no-such-class');
  });

  // A feature module that defined `tag` or `muted` itself would silently take the name from the shared class.
  it('no feature module redefines a shared class', () => {
    const modules = import.meta.glob<Readonly<Record<string, string>>>('../**/*.module.css', { eager: true, import: 'default' });
    const sharedNames = new Set(Object.keys(ui));
    const clashes = Object.entries(modules)
      .filter(([path]) => !path.endsWith('/ui.module.css'))
      .flatMap(([path, classes]) =>
        Object.keys(classes)
          .filter((name) => sharedNames.has(name))
          .map((name) => `${path}: ${name}`),
      );
    expect(Object.keys(modules).length).toBeGreaterThan(10);
    expect(clashes).toEqual([]);
  });

  // Views write `tag state-${child.status}`, `health-${member.status}`, `tag access-${access}`: each value
  // must be a shared class, or a new status would throw in tests and log in development. A Record over
  // each union fails to compile when core adds a value.
  it('the shared module has a class for every status, health and access a view can write', () => {
    const states: Record<ChildView['status'], true> = { running: true, pending: true, moving: true, duplicate: true, failing: true, unplaceable: true };
    const health: Record<MemberViewStatus | 'stale' | 'none', true> = {
      up: true,
      suspect: true,
      down: true,
      left: true,
      unreachable: true,
      stale: true,
      none: true,
    };
    const access: Record<Access, true> = { operator: true, locked: true, viewer: true, none: true };
    const names = [
      ...Object.keys(states).map((s) => `state-${s}`),
      ...Object.keys(health).map((h) => `health-${h}`),
      ...Object.keys(access).map((a) => `access-${a}`),
    ];
    expect(names.filter((n) => !(n in ui))).toEqual([]);
  });
});
