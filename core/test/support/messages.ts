/** For tests of calls to children: the MessageError a failed call rejects with. */
import { expect } from 'vitest';
import { MessageError } from '../../src/supervisor/child-channel.js';

/** The MessageError `p` rejects with (the test fails if it resolves or rejects with anything else). */
export async function messageFailure(p: Promise<unknown>): Promise<MessageError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MessageError);
  return err as MessageError;
}
