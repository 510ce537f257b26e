import { iqResult, type IqRouting } from '../iq-handlers';

export const NS_VERSION = 'jabber:iq:version';
export const NS_TIME = 'urn:xmpp:time';

/** XEP-0092 software version (no operating system: it tells attackers too much) and XEP-0202 entity time. */
export function registerVersionAndTime(iq: IqRouting, version: string, now: () => Date = () => new Date()): void {
  iq.server.on('get', 'query', NS_VERSION, (request) => {
    const result = iqResult(request);
    const query = result.c('query', { xmlns: NS_VERSION });
    query.c('name').t('bosh-gateway');
    query.c('version').t(version);
    return result;
  });
  iq.serverFeatures.add(NS_VERSION);

  iq.server.on('get', 'time', NS_TIME, (request) => {
    const result = iqResult(request);
    const time = result.c('time', { xmlns: NS_TIME });
    // XEP-0202 §3: the server keeps UTC.
    time.c('tzo').t('+00:00');
    time.c('utc').t(
      now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
    );
    return result;
  });
  iq.serverFeatures.add(NS_TIME);
}
