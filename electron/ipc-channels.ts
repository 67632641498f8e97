/**
 * IPC channel names, one per preload method. Shared by the preload (which
 * bundles this file) and main. Deliberately free of imports: the sandboxed
 * preload may require nothing but `electron` at run time, so the schemas
 * that main checks arguments with live apart, in ipc.ts.
 */
export const IPC_CHANNELS = {
  listConnections: 'pogo:connections:list',
  saveConnection: 'pogo:connections:save',
  deleteConnection: 'pogo:connections:delete',
  chooseFile: 'pogo:dialog:choose-file',
  connect: 'pogo:session:connect',
  startDemo: 'pogo:session:start-demo',
  disconnect: 'pogo:session:disconnect',
} as const;

export type IpcMethod = keyof typeof IPC_CHANNELS;
export type IpcChannel = (typeof IPC_CHANNELS)[IpcMethod];
