/** Renderer entry: mounts <App/> into #root. */
import './zod-config';
// The shared classes first, so that a feature's module, loaded with its view, refines them (shared/ui.module.css).
import './shared/ui.module.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
// The base comes after the features' modules, as the cascade always had it.
import './styles.css';

const container = document.getElementById('root');
if (container === null) throw new Error('renderer/index.html must contain <div id="root">');

createRoot(container).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
