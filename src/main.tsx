import { createRoot } from 'react-dom/client';
import { AppController } from './app/controller.ts';
import { parseStartOptions } from './app/start-options.ts';
import { installTestHook } from './app/test-hook.ts';
import { App } from './ui/App.tsx';
import { installModelManager } from './models/install.ts';
import { installModes } from './modes/install.ts';
import { installPriors } from './priors/install.ts';
import './ui/styles.css';

const root = document.getElementById('root');
if (root) {
  const controller = new AppController(parseStartOptions(location.search));
  installModelManager(controller);
  installModes(controller);
  installPriors(controller);
  if (import.meta.env.DEV || import.meta.env.MODE === 'test') installTestHook(controller);
  void controller.start().then(() => createRoot(root).render(<App controller={controller} />));
}
