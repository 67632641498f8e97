// A feature's CSS module (Vite): class name → its scoped name (shared/scoped.ts).
// A script, not a module, so that the wildcard declaration is global.
declare module '*.module.css' {
  const classes: Readonly<Record<string, string>>;
  export default classes;
}
