/**
 * zod in the renderer runs without its eval-compiled fast path (`jitless`):
 * the page's Content-Security-Policy has no 'unsafe-eval', and zod probes
 * for it with `new Function` when it builds an object schema, which the
 * browser reports as a CSP violation on the console. Imported first by
 * main.tsx, so it is set before any schema (pogo-core/child-spec) is built.
 */
import { config } from 'zod';

config({ jitless: true });
