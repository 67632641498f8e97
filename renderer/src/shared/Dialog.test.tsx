/**
 * The shared modal dialog: labelled by its title, focus moves in on open
 * (an autoFocus child keeps it), Tab and Shift-Tab wrap inside, Escape
 * closes without reaching the app, and focus goes back to the opener.
 */
import { act, useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { mountPerTest } from '../test-support';
import { Dialog } from './Dialog';

function Opener(props: { onClose?: () => void; autoFocusLast?: boolean }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Open
      </button>
      {open && (
        <Dialog
          title="Delete prod?"
          onClose={() => {
            props.onClose?.();
            setOpen(false);
          }}
        >
          <input aria-label="Name" />
          <button type="button" autoFocus={props.autoFocusLast}>
            Delete
          </button>
        </Dialog>
      )}
    </>
  );
}

describe('<Dialog/>', () => {
  const view = mountPerTest();
  const dialog = () => view.container.querySelector<HTMLElement>('[role="dialog"]');
  const button = (name: string) => [...view.container.querySelectorAll('button')].find((b) => b.textContent === name)!;
  const key = (init: KeyboardEventInit) =>
    act(() => void document.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, cancelable: true, ...init })));
  const open = (props: Parameters<typeof Opener>[0] = {}) => {
    view.render(<Opener {...props} />);
    button('Open').focus();
    act(() => button('Open').click());
  };

  it('is a modal dialog named by its title', () => {
    open();
    const d = dialog()!;
    expect(d.getAttribute('aria-modal')).toBe('true');
    expect(document.getElementById(d.getAttribute('aria-labelledby')!)?.textContent).toBe('Delete prod?');
  });

  it('moves focus in on open: to the first control, or to the one that asks for it', () => {
    open();
    expect(document.activeElement?.getAttribute('aria-label')).toBe('Name');
    view.remount();
    open({ autoFocusLast: true });
    expect(document.activeElement).toBe(button('Delete'));
  });

  it('keeps Tab and Shift-Tab inside: from the last to the first and back', () => {
    open({ autoFocusLast: true });
    key({ key: 'Tab' });
    expect(document.activeElement?.getAttribute('aria-label')).toBe('Name');
    key({ key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(button('Delete'));
  });

  it('closes on Escape, which the app does not see, and gives focus back to the opener', () => {
    const onClose = vi.fn();
    const appKeys = vi.fn();
    window.addEventListener('keydown', appKeys);
    try {
      open({ onClose });
      key({ key: 'Escape' });
    } finally {
      window.removeEventListener('keydown', appKeys);
    }
    expect(onClose).toHaveBeenCalledOnce();
    expect(appKeys).not.toHaveBeenCalled();
    expect(dialog()).toBeNull();
    expect(document.activeElement).toBe(button('Open'));
  });
});
