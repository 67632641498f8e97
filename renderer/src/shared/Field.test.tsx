/** A form field: label, hint and error tied to the control (htmlFor, aria-describedby, aria-invalid). */
import { describe, expect, it } from 'vitest';
import { mountPerTest } from '../test-support';
import { Field, fieldWiring } from './Field';

describe('fieldWiring', () => {
  it('describes the control by its hint, then by its error while invalid', () => {
    expect(fieldWiring('f', { invalid: false })).toEqual({ id: 'f' });
    expect(fieldWiring('f', { hintId: 'h', errorId: 'e', invalid: false })).toEqual({ id: 'f', 'aria-describedby': 'h' });
    expect(fieldWiring('f', { hintId: 'h', errorId: 'e', invalid: true })).toEqual({ id: 'f', 'aria-describedby': 'h e', 'aria-invalid': true });
    expect(fieldWiring('f', { errorId: 'e', invalid: true })).toEqual({ id: 'f', 'aria-describedby': 'e', 'aria-invalid': true });
  });
});

describe('<Field/>', () => {
  const view = mountPerTest();
  const input = () => view.container.querySelector('input')!;
  const describedBy = () => (input().getAttribute('aria-describedby') ?? '').split(' ').map((id) => document.getElementById(id)?.textContent);

  it('labels the control and describes it by its hint', () => {
    view.render(
      <Field label="Seeds" hint="host:port, comma-separated">
        {(c) => <input {...c} />}
      </Field>,
    );
    expect(view.container.querySelector(`label[for="${input().id}"]`)?.textContent).toBe('Seeds');
    expect(describedBy()).toEqual(['host:port, comma-separated']);
    expect(input().getAttribute('aria-invalid')).toBeNull();
  });

  it('shows an error as an alert, marks the control invalid and describes it by the error too', () => {
    view.render(
      <Field label="Seeds" hint="host:port" error="no seed given">
        {(c) => <input {...c} />}
      </Field>,
    );
    expect(input().getAttribute('aria-invalid')).toBe('true');
    expect(describedBy()).toEqual(['host:port', 'no seed given']);
    expect(view.container.querySelector('[role="alert"]')?.textContent).toBe('no seed given');
  });

  it('points at an error shown elsewhere only while invalid', () => {
    view.render(
      <>
        <p id="form-problem">Child id: required</p>
        <Field label="Child id" invalid errorId="form-problem">
          {(c) => <input {...c} />}
        </Field>
      </>,
    );
    expect(describedBy()).toEqual(['Child id: required']);
    expect(input().getAttribute('aria-invalid')).toBe('true');
    view.render(
      <Field label="Child id" invalid={false} errorId="form-problem">
        {(c) => <input {...c} />}
      </Field>,
    );
    expect(input().getAttribute('aria-invalid')).toBeNull();
    expect(input().getAttribute('aria-describedby')).toBeNull();
  });

  it('wraps the parts in a row when given a class', () => {
    view.render(
      <Field label="Name" className="form-row" title="what it is">
        {(c) => <input {...c} />}
      </Field>,
    );
    const row = view.container.querySelector('div.form-row')!;
    expect(row.getAttribute('title')).toBe('what it is');
    expect(row.contains(input())).toBe(true);
  });
});
