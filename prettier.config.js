// One formatting for the whole repository: core's config (core stands alone, so it owns the file).
export { default } from './core/prettier.config.js';
