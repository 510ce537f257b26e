/**
 * Debian's Chromium, headless, with the flags that keep it from reaching out to the network on its own
 * (background networking, component updates, sync) on a machine without internet.
 */
export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
