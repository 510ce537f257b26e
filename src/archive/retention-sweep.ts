import type { Logger } from '../observability/logger';
import type { ArchiveStore } from '../store/archive-store';

/** How often the archive is swept of messages past MAM_RETENTION_DAYS. */
export const SWEEP_EVERY_MS = 60 * 60 * 1000;

/**
 * Runs the archive's age limit (ArchiveStore.prune) once now and then every `everyMs`: the retention
 * count is kept at every append, but an archive nobody writes to would keep its old messages until
 * the next sweep. One sweep at a time; a failure is logged and the next one tries again.
 */
export function startRetentionSweep(store: ArchiveStore, logger: Logger, everyMs = SWEEP_EVERY_MS, now: () => Date = () => new Date()): { stop(): void } {
  let running = false;
  const sweep = (): void => {
    if (running) return;
    running = true;
    store
      .prune(now())
      .then((dropped) => {
        if (dropped > 0) logger.info({ dropped }, 'archive: messages past the retention age dropped');
      })
      .catch((err: unknown) => logger.warn({ err }, 'archive: the retention sweep failed'))
      .finally(() => {
        running = false;
      });
  };
  const timer = setInterval(sweep, everyMs);
  // A sweep never keeps a stopping process alive.
  timer.unref();
  sweep();
  return { stop: () => clearInterval(timer) };
}
