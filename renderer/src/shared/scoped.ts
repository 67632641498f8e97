/**
 * Class names for a feature's CSS module. `scoped(styles)` gives a function
 * that takes class names as a component writes them (a string of names, a
 * template, a condition that may be false) and returns the module's scoped
 * name for each class the module defines, and the name itself for one it
 * does not: those are the shared classes of the one global sheet for them
 * (shared/ui.css: `muted`, `tag`, `primary`, `panel`…), which a module names
 * as `:global(.tag)` in its own selectors. So a feature's own classes
 * cannot collide with another's, and the shared ones stay shared. Pure.
 */
export type ClassPart = string | false | null | undefined;

export function scoped(styles: Readonly<Record<string, string>>): (...parts: ClassPart[]) => string {
  return (...parts) =>
    parts
      .filter((p): p is string => typeof p === 'string')
      .flatMap((p) => p.split(/\s+/))
      .filter(Boolean)
      .map((name) => styles[name] ?? name)
      .join(' ');
}
