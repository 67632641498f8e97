/** Dark and light themes: follows the system until the user picks one, which is remembered. */
import { useEffect } from 'react';
import { useStore } from '../../store/index';
import type { Theme } from '../../store/ui';
import { scoped } from '../../shared/scoped';
import styles from './shell.module.css';

const cx = scoped(styles);

const KEY = 'pogo.theme';

function initialTheme(): Theme {
  try {
    const saved = window.localStorage.getItem(KEY);
    if (saved === 'dark' || saved === 'light') return saved;
  } catch {
    // storage unavailable: fall through
  }
  return window.matchMedia?.('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

/** Applies the theme to <html data-theme>; call once, from the app shell. */
export function useTheme(): void {
  const theme = useStore((s) => s.theme);
  useEffect(() => useStore.getState().setTheme(initialTheme()), []);
  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
  }, [theme]);
}

export function ThemeToggle() {
  const theme = useStore((s) => s.theme);
  const next: Theme = theme === 'dark' ? 'light' : 'dark';
  return (
    <button
      type="button"
      className={cx('theme-toggle')}
      aria-label={`Switch to ${next} theme`}
      title={`Switch to ${next} theme`}
      onClick={() => {
        useStore.getState().setTheme(next);
        try {
          window.localStorage.setItem(KEY, next);
        } catch {
          // not remembered; still applied
        }
      }}
    >
      {theme === 'dark' ? '☾' : '☀'}
    </button>
  );
}
