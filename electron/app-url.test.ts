/** What the window may show: the local renderer and the current session's gateway, nothing else. */
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isAppUrl, isLocalAppUrl, isWebLink } from './app-url';

const rendererIndexPath = '/opt/Pogo/resources/app/out/renderer/index.html';
const indexUrl = pathToFileURL(rendererIndexPath).href;

describe('isAppUrl', () => {
  it('accepts the built renderer file, with or without query and hash', () => {
    const app = { rendererIndexPath };
    expect(isAppUrl(indexUrl, app)).toBe(true);
    expect(isAppUrl(`${indexUrl}?x=1#top`, app)).toBe(true);
    expect(isLocalAppUrl(indexUrl, app)).toBe(true);
  });

  it('refuses other files and, with no session, every http origin', () => {
    const app = { rendererIndexPath };
    expect(isAppUrl(pathToFileURL('/etc/passwd').href, app)).toBe(false);
    expect(isAppUrl('http://127.0.0.1:7070/?token=t', app)).toBe(false);
    expect(isAppUrl('not a url', app)).toBe(false);
  });

  it("accepts exactly the current session's gateway origin", () => {
    const app = { rendererIndexPath, sessionOrigin: 'http://127.0.0.1:43210' };
    expect(isAppUrl('http://127.0.0.1:43210/?token=abc', app)).toBe(true);
    expect(isAppUrl('http://127.0.0.1:43210/assets/index.js', app)).toBe(true);
    expect(isAppUrl('http://127.0.0.1:43211/', app)).toBe(false);
    expect(isAppUrl('http://localhost:43210/', app)).toBe(false);
    expect(isAppUrl('https://127.0.0.1:43210/', app)).toBe(false);
    expect(isAppUrl('http://127.0.0.1:432100/', app)).toBe(false);
    expect(isLocalAppUrl('http://127.0.0.1:43210/', app)).toBe(false);
  });

  it('under the dev server, accepts its origin (not a longer port that starts the same)', () => {
    const app = { rendererIndexPath, devServerUrl: 'http://localhost:5173' };
    expect(isAppUrl('http://localhost:5173/', app)).toBe(true);
    expect(isAppUrl('http://localhost:51730/', app)).toBe(false);
    expect(isAppUrl(indexUrl, app)).toBe(false);
  });
});

describe('isWebLink', () => {
  it('is true for http and https only', () => {
    expect(isWebLink('https://example.com/x')).toBe(true);
    expect(isWebLink('http://example.com')).toBe(true);
    expect(isWebLink('file:///etc/passwd')).toBe(false);
    expect(isWebLink('javascript:alert(1)')).toBe(false);
    expect(isWebLink('nonsense')).toBe(false);
  });
});
