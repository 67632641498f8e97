/** A modal confirmation for a command: title, explanation, Cancel and the action. */
import type { ReactNode } from 'react';

export function ConfirmDialog(props: { id: string; title: ReactNode; action: string; onCancel: () => void; onConfirm: () => void; children: ReactNode }) {
  return (
    <div className="dialog-backdrop">
      <div role="dialog" aria-modal="true" aria-labelledby={props.id} className="dialog">
        <h2 id={props.id}>{props.title}</h2>
        <p>{props.children}</p>
        <div className="dialog-actions">
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="button" className="primary" onClick={props.onConfirm} autoFocus>
            {props.action}
          </button>
        </div>
      </div>
    </div>
  );
}
