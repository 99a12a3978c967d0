// Puts the library on window so browser tests can drive it with page.evaluate.
import * as Reprise from '../../../src/index';

declare global {
  interface Window {
    Reprise: typeof Reprise;
  }
}

window.Reprise = Reprise;
