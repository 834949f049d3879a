import { render } from 'preact';
import './styles.css';
import { App } from './app.js';

const root = document.getElementById('app');
if (root) {
  render(<App />, root);
  // For the load-time measurement (bench): first render of the shell is done.
  performance.mark('edgeflow:first-render');
}
