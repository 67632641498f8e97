/** Well-known paths of the repository, for specs (independent of the cwd). */
import { fileURLToPath } from 'node:url';

const root = new URL('../../', import.meta.url);

export const repoRoot = fileURLToPath(root);
/** The built renderer (`npm run build` → electron-vite → out/renderer). */
export const rendererDir = fileURLToPath(new URL('out/renderer/', root));
/** Screenshots specs save on purpose, kept as CI artifacts. */
export const screenshotsDir = fileURLToPath(new URL('test-results/screenshots/', root));
/** The README's screenshots (`docs/*.png`), taken by the e2e run. */
export const docsDir = fileURLToPath(new URL('docs/', root));
