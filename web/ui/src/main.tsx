import './styles/base.css';
import './styles/layout.css';
import './styles/components.css';
import './styles/shell.css';
// Applies the remembered light or dark choice before the first render.
import './theme/theme';
import { render } from 'preact';
import { App } from './app';
import { startServiceWorker } from './pwa/service-worker';

render(<App />, document.getElementById('app')!);
startServiceWorker();
