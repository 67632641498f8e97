/** Renderer entry: mounts <App/> into #root. */
import './zod-config';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
// The base and the shared classes come after the features' modules, as the cascade always had them.
import './styles.css';
import './shared/ui.css';

const container = document.getElementById('root');
if (container === null) throw new Error('renderer/index.html must contain <div id="root">');

createRoot(container).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
