/** A modal confirmation for a command: title, explanation, Cancel and the action. Escape cancels. */
import type { ReactNode } from 'react';

export function ConfirmDialog(props: {
  id: string;
  title: ReactNode;
  action: string;
  onCancel: () => void;
  onConfirm: () => void;
  children: ReactNode;
  danger?: boolean;
}) {
  return (
    <div
      className="dialog-backdrop"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          props.onCancel();
        }
      }}
    >
      <div role="dialog" aria-modal="true" aria-labelledby={props.id} className="dialog">
        <h2 id={props.id}>{props.title}</h2>
        <div className="dialog-body">{props.children}</div>
        <div className="dialog-actions">
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="button" className={props.danger ? 'primary danger' : 'primary'} onClick={props.onConfirm} autoFocus>
            {props.action}
          </button>
        </div>
      </div>
    </div>
  );
}
