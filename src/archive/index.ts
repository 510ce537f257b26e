export { archivable, chatArchiver, type ArchiverObserver } from './chat-archiver';
export { DEFAULT_PAGE, MAX_PAGE, mamSearchForm, readMamQuery } from './mam-query';
export { renderMamPage, resultMessage, type MamAddressing } from './mam-render';
export { NS_MAM, NS_MAM_EXTENDED } from './namespaces';
export { registerUserArchive } from './user-archive';
export { SWEEP_EVERY_MS, startRetentionSweep } from './retention-sweep';
