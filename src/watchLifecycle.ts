import type { EngineApi } from './protocol';

/**
 * Follows the page lifecycle: a page being frozen or put in the back/forward cache stops listening to
 * other tabs (and records its reads), and one coming back catches up from the event log before it
 * answers again. A page being unloaded only records its reads: what it changes after (an app's own
 * pagehide listener, a call in flight) still reaches the other tabs. Returns the function that stops watching.
 */
export function watchLifecycle(engine: Pick<EngineApi, 'suspend' | 'unloading' | 'resume'>, report: (error: unknown) => void): () => void {
  if (typeof document === 'undefined' || typeof window === 'undefined') return () => {};
  const suspend = () => void engine.suspend().catch(report);
  const resume = () => void engine.resume().catch(report);
  // Not persisted: the page is unloaded, and a suspended one would keep what it says after for a resume that never comes.
  const hide = (event: PageTransitionEvent) => (event.persisted ? suspend() : void engine.unloading().catch(report));
  const show = (event: PageTransitionEvent) => event.persisted && resume();
  document.addEventListener('freeze', suspend);
  document.addEventListener('resume', resume);
  window.addEventListener('pagehide', hide);
  window.addEventListener('pageshow', show);
  return () => {
    document.removeEventListener('freeze', suspend);
    document.removeEventListener('resume', resume);
    window.removeEventListener('pagehide', hide);
    window.removeEventListener('pageshow', show);
  };
}
