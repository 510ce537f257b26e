import type { Logger } from '../observability/logger';

/** The part of `process` the guards hook into (an EventEmitter in tests). */
export interface GuardedProcess {
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  on(event: 'uncaughtException', listener: (err: Error) => void): unknown;
}

/**
 * The last line of the safety net, for faults that escaped every session's guard.
 *
 * A promise rejected with nobody listening (Node's default is to kill the process for it) is logged
 * and the node goes on: the work it belonged to is lost, nothing else is. An uncaught exception is
 * logged and the process exits with status 1: after one, Node's own state may be inconsistent
 * (nodejs.org/api/process.html "Warning: Using 'uncaughtException' correctly"), and a supervisor
 * restarting a clean process is safer than serving from a broken one.
 */
export function installProcessGuards(target: GuardedProcess, logger: Logger, exit: (code: number) => void = (code) => process.exit(code)): void {
  target.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'unhandled promise rejection; the node keeps running');
  });
  target.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; exiting');
    exit(1);
  });
}
