/**
 * The Connections view: the browser hint without a preload bridge; with a
 * fake `window.pogo`, the saved list, the add form (file paths from native
 * dialogs), connect, delete and the demo offer, and errors from main shown.
 */
import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { ConnectionDraft, FilePurpose, PogoPreloadApi, Result, SavedConnection } from '../../../../electron/preload-api';
import { Connections, parseSeeds } from './Connections';
import { mountPerTest, typeInto } from '../../test-support';

const prod: SavedConnection = {
  id: 'prod',
  name: 'Production',
  seeds: ['10.0.0.1:4370'],
  secretFile: '/etc/pogo/secret',
  operatorTokenFile: '/home/me/operator',
};
const lab: SavedConnection = { id: 'lab', name: 'Lab', seeds: ['10.1.0.1:4370', '10.1.0.2:4370'], cluster: 'lab', secretFile: '/srv/lab/secret' };

/** A fake preload bridge keeping connections in memory, recording calls. */
function fakeBridge(initial: SavedConnection[] = []) {
  let saved = [...initial];
  const files: Partial<Record<FilePurpose, string>> = { secret: '/home/me/cluster.secret', 'operator-token': '/home/me/operator.token' };
  const api = {
    version: '0.1.0',
    platform: 'linux',
    listConnections: vi.fn(async (): Promise<Result<{ connections: SavedConnection[]; warning?: string }>> => ({ ok: true, connections: saved })),
    saveConnection: vi.fn(async (draft: ConnectionDraft): Promise<Result<{ connection: SavedConnection }>> => {
      if (draft.seeds.some((s) => !/:\d+$/.test(s) && !s.startsWith('dns-srv:'))) return { ok: false, error: 'saveConnection: seeds[0]: must be host:port' };
      const connection = { ...draft, id: draft.id ?? `id-${saved.length + 1}` };
      saved = [...saved.filter((c) => c.id !== connection.id), connection];
      return { ok: true, connection };
    }),
    deleteConnection: vi.fn(async (id: string): Promise<Result> => {
      saved = saved.filter((c) => c.id !== id);
      return { ok: true };
    }),
    chooseFile: vi.fn(async (purpose: FilePurpose): Promise<Result<{ path: string | null }>> => ({ ok: true, path: files[purpose] ?? null })),
    connect: vi.fn(async (_id: string): Promise<Result> => ({ ok: false, error: 'no member of Production answered within 15 s' })),
    startDemo: vi.fn(async (): Promise<Result> => ({ ok: true })),
    disconnect: vi.fn(async (): Promise<Result> => ({ ok: true })),
  } satisfies PogoPreloadApi;
  return api;
}

function installBridge(api: PogoPreloadApi | undefined): void {
  Object.defineProperty(window, 'pogo', { value: api, configurable: true, writable: true });
}

describe('<Connections/>', () => {
  const view = mountPerTest({ after: () => installBridge(undefined) });

  const button = (name: string): HTMLButtonElement => {
    const found = [...view.container.querySelectorAll('button')].find((b) => (b.getAttribute('aria-label') ?? b.textContent) === name);
    if (!found) throw new Error(`no button "${name}" in: ${view.container.textContent}`);
    return found;
  };
  const click = async (name: string): Promise<void> => {
    await act(async () => button(name).click());
  };
  const render = async (): Promise<void> => {
    await act(async () => view.root.render(<Connections />));
  };

  it('in a plain browser, explains how to open a gateway URL', async () => {
    installBridge(undefined);
    await render();
    expect(view.container.textContent).toContain('No cluster connected');
    expect(view.container.textContent).toContain('npx pogo demo --ui');
    expect(view.container.querySelector('button')).toBeNull();
  });

  it('with nothing saved, offers the demo cluster prominently, and starts it through main', async () => {
    const api = fakeBridge();
    installBridge(api);
    await render();
    expect(view.container.textContent).toContain('No saved connections');
    const demo = button('Start a local demo cluster');
    expect(demo.classList.contains('primary')).toBe(true);

    await click('Start a local demo cluster');
    expect(api.startDemo).toHaveBeenCalledTimes(1);
    expect(view.container.querySelector('[role="status"]')?.textContent).toBe('Starting a local demo cluster…');
    expect(button('Start a local demo cluster').disabled).toBe(true);
  });

  it('says why the demo did not start, and lets the user try again', async () => {
    const api = fakeBridge();
    api.startDemo.mockResolvedValueOnce({ ok: false, error: 'demo-1 did not start within 10 s' });
    installBridge(api);
    await render();
    await click('Start a local demo cluster');
    expect(view.container.querySelector('[role="alert"]')?.textContent).toBe('The demo cluster did not start: demo-1 did not start within 10 s');
    expect(button('Start a local demo cluster').disabled).toBe(false);
  });

  it('lists saved connections with their access, and connects by id, showing why it failed', async () => {
    const api = fakeBridge([prod, lab]);
    installBridge(api);
    await render();
    const items = [...view.container.querySelectorAll('[data-connection]')];
    expect(items.map((i) => i.querySelector('.connection-name')?.textContent)).toEqual(['Production', 'Lab']);
    expect(items[0]!.textContent).toContain('operator');
    expect(items[1]!.textContent).toContain('read-only');
    expect(items[1]!.textContent).toContain('cluster lab · 10.1.0.1:4370, 10.1.0.2:4370');
    expect(button('Start a local demo cluster').classList.contains('primary')).toBe(false);

    await click('Connect to Production');
    expect(api.connect).toHaveBeenCalledWith('prod');
    expect(view.container.querySelector('[role="alert"]')?.textContent).toBe('Could not connect to Production: no member of Production answered within 15 s');
  });

  it('deletes a connection after confirming', async () => {
    const api = fakeBridge([prod, lab]);
    installBridge(api);
    await render();
    await click('Delete Lab');
    expect(view.container.querySelector('[role="dialog"]')?.textContent).toContain('Delete Lab?');
    await act(async () => view.container.querySelector<HTMLButtonElement>('[role="dialog"] button.primary')!.click());
    expect(api.deleteConnection).toHaveBeenCalledWith('lab');
    expect([...view.container.querySelectorAll('[data-connection]')].map((i) => i.getAttribute('data-connection'))).toEqual(['prod']);
  });

  it('labels each field of the form (label for its control)', async () => {
    installBridge(fakeBridge());
    await render();
    await click('Add a connection');
    const labelled = [...view.container.querySelectorAll<HTMLLabelElement>('form label')].map((l) => [l.textContent, l.control?.tagName]);
    expect(labelled).toEqual([
      ['Name', 'INPUT'],
      ['Seeds', 'INPUT'],
      ['DNS server', 'INPUT'],
      ['Cluster name', 'INPUT'],
      ['Your name', 'INPUT'],
      ['Timing preset', 'SELECT'],
    ]);
  });

  it('adds a connection with files picked in native dialogs, storing their paths only', async () => {
    const api = fakeBridge();
    installBridge(api);
    await render();
    await click('Add a connection');
    const [name, seeds] = [...view.container.querySelectorAll<HTMLInputElement>('form input')];
    await act(async () => {
      typeInto(name!, 'Staging');
      typeInto(seeds!, '10.2.0.1:4370, 10.2.0.2:4370 10.2.0.3:4370');
    });

    // Without a secret file, nothing is sent to main.
    await act(async () => view.container.querySelector('form')!.requestSubmit());
    expect(api.saveConnection).not.toHaveBeenCalled();
    expect(view.container.querySelector('form [role="alert"]')?.textContent).toContain('Choose the secret file');

    await click('Choose secret file');
    await click('Choose operator token file');
    expect(api.chooseFile.mock.calls).toEqual([['secret'], ['operator-token']]);
    expect(view.container.querySelector('[data-file="secret"]')?.textContent).toBe('/home/me/cluster.secret');

    await act(async () => view.container.querySelector('form')!.requestSubmit());
    expect(api.saveConnection).toHaveBeenCalledWith({
      name: 'Staging',
      seeds: ['10.2.0.1:4370', '10.2.0.2:4370', '10.2.0.3:4370'],
      secretFile: '/home/me/cluster.secret',
      operatorTokenFile: '/home/me/operator.token',
    });
    expect(view.container.querySelector('form')).toBeNull();
    expect(view.container.querySelector('[data-connection="id-1"]')?.textContent).toContain('Staging');
  });

  it('saves the timing preset chosen for the app (none when left at the default)', async () => {
    const api = fakeBridge();
    installBridge(api);
    await render();
    await click('Add a connection');
    const [name, seeds] = [...view.container.querySelectorAll<HTMLInputElement>('form input')];
    await act(async () => {
      typeInto(name!, 'Local lab');
      typeInto(seeds!, '127.0.0.1:4001');
    });
    await click('Choose secret file');
    const select = view.container.querySelector<HTMLSelectElement>('form select')!;
    expect(select.value).toBe('');
    await act(async () => {
      select.value = 'local';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await act(async () => view.container.querySelector('form')!.requestSubmit());
    expect(api.saveConnection).toHaveBeenCalledWith({ name: 'Local lab', seeds: ['127.0.0.1:4001'], secretFile: '/home/me/cluster.secret', preset: 'local' });
  });

  it('saves the name the user gives for the audit log (none when left empty: main uses the OS user name)', async () => {
    const api = fakeBridge();
    installBridge(api);
    await render();
    await click('Add a connection');
    const [name, seeds] = [...view.container.querySelectorAll<HTMLInputElement>('form input')];
    const user = view.container.querySelector<HTMLInputElement>('form input[placeholder="your OS user name"]')!;
    await act(async () => {
      typeInto(name!, 'Prod');
      typeInto(seeds!, '10.0.0.1:4370');
      typeInto(user, '  alice  ');
    });
    await click('Choose secret file');
    await act(async () => view.container.querySelector('form')!.requestSubmit());
    expect(api.saveConnection).toHaveBeenCalledWith({ name: 'Prod', seeds: ['10.0.0.1:4370'], secretFile: '/home/me/cluster.secret', user: 'alice' });
  });

  it("saves DNS seeds with the DNS server given (none when left empty: the system's)", async () => {
    const api = fakeBridge();
    installBridge(api);
    await render();
    await click('Add a connection');
    const [name, seeds] = [...view.container.querySelectorAll<HTMLInputElement>('form input')];
    const dns = view.container.querySelector<HTMLInputElement>('form input[placeholder="the system\'s"]')!;
    await act(async () => {
      typeInto(name!, 'Kube');
      typeInto(seeds!, 'dns-srv:_pogo._tcp.pogo.svc');
      typeInto(dns, ' 10.96.0.10 ');
    });
    await click('Choose secret file');
    await act(async () => view.container.querySelector('form')!.requestSubmit());
    expect(api.saveConnection).toHaveBeenCalledWith({
      name: 'Kube',
      seeds: ['dns-srv:_pogo._tcp.pogo.svc'],
      dnsServer: ['10.96.0.10'],
      secretFile: '/home/me/cluster.secret',
    });
  });

  it("shows main's validation error in the form and keeps what was typed", async () => {
    const api = fakeBridge();
    installBridge(api);
    await render();
    await click('Add a connection');
    const [name, seeds] = [...view.container.querySelectorAll<HTMLInputElement>('form input')];
    await act(async () => {
      typeInto(name!, 'Broken');
      typeInto(seeds!, '10.2.0.1');
    });
    await click('Choose secret file');
    await act(async () => view.container.querySelector('form')!.requestSubmit());
    expect(view.container.querySelector('form [role="alert"]')?.textContent).toBe('saveConnection: seeds[0]: must be host:port');
    expect(view.container.querySelector<HTMLInputElement>('form input')!.value).toBe('Broken');
  });

  it('shows a warning about a damaged saved file along with what could be read', async () => {
    const api = fakeBridge([prod]);
    api.listConnections.mockResolvedValueOnce({
      ok: true,
      connections: [prod],
      warning: 'Some saved connections were skipped: connections[1].seeds[0]: must be host:port.',
    });
    installBridge(api);
    await render();
    expect(view.container.querySelector('[role="alert"]')?.textContent).toContain('connections[1].seeds[0]');
    expect(view.container.querySelectorAll('[data-connection]')).toHaveLength(1);
  });
});

describe('parseSeeds', () => {
  it('splits on commas and white space', () => {
    expect(parseSeeds(' a:1, b:2\nc:3  d:4,,')).toEqual(['a:1', 'b:2', 'c:3', 'd:4']);
    expect(parseSeeds('   ')).toEqual([]);
  });
});
