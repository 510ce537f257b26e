export { BoshTransport, errorResponse, type BoshTransportOptions, type RemoteSessionHandler, type RequestContext } from './transport';
export { createBoshHttpHandler, FORWARDED_HEADER, type BoshHttpOptions } from './http-adapter';
export { realScheduler, type Scheduler, type TimerHandle } from './scheduler';
export { BoshSession, type BoshResponse, type Responder, type RequestHandle } from './session';
export { BoshError, type TerminalCondition } from './conditions';
export { recoverableErrorResponse } from './recoverable-error';
export { silentObserver, type BoshObserver } from './observer';
export type { BoshLimits, SessionParams } from './session-params';
