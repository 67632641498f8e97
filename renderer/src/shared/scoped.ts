/**
 * Class names for a feature's CSS module. `scoped(styles)` gives a function
 * that takes class names as a component writes them (a string of names, a
 * template, a condition that may be false) and returns, for each, the
 * scoped name from the feature's module, or else from the shared one
 * (shared/ui.module.css: `muted`, `tag`, `primary`, `panel`…); `scoped()`
 * gives the shared names alone, for a component without a module of its
 * own. No class is global, so a feature's own classes cannot collide with
 * another's, and the shared ones are still written as plain words.
 *
 * A name neither module defines is a typo or a rule that was removed: in
 * tests it throws (so a component test catches it), in development it is
 * logged, and a build leaves the name as written rather than break the
 * view. So a modifier that only some values style is added only for those
 * (`status !== 'running' && \`status-${status}\``), never for every value.
 */
import ui from './ui.module.css';

export type ClassPart = string | false | null | undefined;
export type ClassNames = (...parts: ClassPart[]) => string;

type Styles = Readonly<Record<string, string>>;

/** What an unknown name does: throw (tests), log (development), nothing (a build). */
export type OnUnknown = 'throw' | 'log' | 'keep';

/** Resolve names against `styles`, then `shared`. Exported for tests. */
export function scopedWith(styles: Styles, shared: Styles, onUnknown: OnUnknown): ClassNames {
  const resolve = (name: string): string => {
    const local = styles[name] ?? shared[name];
    if (local !== undefined) return local;
    const problem = `class "${name}" is defined neither by this CSS module nor by shared/ui.module.css`;
    if (onUnknown === 'throw') throw new Error(problem);
    if (onUnknown === 'log') console.error(problem);
    return name;
  };
  return (...parts) =>
    parts
      .filter((p): p is string => typeof p === 'string')
      .flatMap((p) => p.split(/\s+/))
      .filter(Boolean)
      .map(resolve)
      .join(' ');
}

const ON_UNKNOWN: OnUnknown = import.meta.env.MODE === 'test' ? 'throw' : import.meta.env.DEV ? 'log' : 'keep';

export function scoped(styles: Styles = {}): ClassNames {
  return scopedWith(styles, ui, ON_UNKNOWN);
}
