/**
 * Prettier config of pogo-core (`npm run format` / `npm run format:check`
 * in core/); the repository's root prettier.config.js re-exports it, so the
 * whole repository is formatted alike.
 *
 * Chosen to match the code as it was written: single quotes, semicolons,
 * trailing commas, parentheses around arrow parameters (the last three are
 * Prettier's defaults), and a print width of 160. Measured on the whole
 * repository before adopting it (files / lines Prettier would change):
 * width 100: 277 / 29,538; 120: 262 / 19,391; 140: 241 / 13,220;
 * 150: 233 / 10,939; 160: 222 / 9,345; 180: 202 / 6,779; 200: 173 / 5,169.
 * 160 is the narrowest width that leaves no line of code over 160
 * characters that Prettier can break; the wider ones keep hundreds.
 */
/** @type {import('prettier').Config} */
export default {
  printWidth: 160,
  singleQuote: true,
};
