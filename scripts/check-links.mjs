#!/usr/bin/env node
/**
 * Checks every relative link in the repository's Markdown files: the file it
 * names exists, and an `#anchor` names a heading of that file (GitHub's
 * rules: lower case, punctuation other than `-` and `_` dropped, spaces to
 * `-`, a repeated heading numbered `-1`, `-2`…). Links inside fenced code
 * and to other schemes (https:, mailto:) are not checked. Run by
 * `npm run lint`; prints each broken link with its file and line, and exits 1
 * if there is any.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '*.md'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && !f.includes('node_modules'));

/**
 * Lines outside fenced code blocks, with their numbers.
 * @param {string} path
 * @returns {Generator<[number, string]>}
 */
function* prose(path) {
  let fence = false;
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('```')) {
      fence = !fence;
      continue;
    }
    if (!fence) yield [i + 1, lines[i]];
  }
}

/** @param {string} heading */
const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, '')
    .replaceAll(' ', '-');

/** @type {Map<string, Set<string>>} */
const anchorCache = new Map();
/**
 * The anchors of a Markdown file's headings (GitHub's slugs; a repeated one gets -1, -2, ...).
 * @param {string} path
 * @returns {Set<string>}
 */
function anchors(path) {
  if (!anchorCache.has(path)) {
    /** @type {Set<string>} */
    const out = new Set();
    /** @type {Map<string, number>} */
    const seen = new Map();
    for (const [, line] of prose(path)) {
      const m = /^#{1,6} (.*)$/.exec(line);
      if (!m) continue;
      const s = slug(/** @type {string} */ (m[1]));
      const k = seen.get(s) ?? 0;
      out.add(k === 0 ? s : `${s}-${k}`);
      seen.set(s, k + 1);
    }
    anchorCache.set(path, out);
  }
  return /** @type {Set<string>} */ (anchorCache.get(path));
}

let checked = 0;
const broken = [];
for (const file of files) {
  const path = join(root, file);
  for (const [n, line] of prose(path)) {
    for (const [, target] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      checked++;
      const hash = target.indexOf('#');
      const part = hash < 0 ? target : target.slice(0, hash);
      const anchor = hash < 0 ? '' : target.slice(hash + 1);
      const to = part ? normalize(join(dirname(path), decodeURI(part))) : path;
      if (!existsSync(to)) broken.push(`${file}:${n}: no such file: ${target}`);
      else if (anchor && !(to.endsWith('.md') && anchors(to).has(anchor))) broken.push(`${file}:${n}: no such heading: ${target}`);
    }
  }
}
for (const b of broken) console.error(b);
console.log(`check-links: ${checked} relative links in ${files.length} Markdown files, ${broken.length} broken`);
process.exit(broken.length > 0 ? 1 : 0);
