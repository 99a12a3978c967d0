import type { EngineApi } from './protocol';

/**
 * Follows the page lifecycle: a page being frozen, hidden or put in the back/forward cache stops
 * listening to other tabs (and records its reads), and one coming back catches up from the event log
 * before it answers again. Returns the function that stops watching.
 */
export function watchLifecycle(engine: Pick<EngineApi, 'suspend' | 'resume'>, report: (error: unknown) => void): () => void {
  if (typeof document === 'undefined' || typeof window === 'undefined') return () => {};
  const suspend = () => void engine.suspend().catch(report);
  const resume = () => void engine.resume().catch(report);
  // Also when the page is unloaded (not persisted): suspending records its reads while it can still run.
  const hide = () => suspend();
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
