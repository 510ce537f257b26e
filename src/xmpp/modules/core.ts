import { iqResult, type IqRouting } from '../iq-handlers';
import { NS_BIND, NS_PING, NS_SESSION } from '../../base/namespaces';
import { StanzaError } from '../../base/stanza-error';

/** What every session has: XEP-0199 ping, the legacy session iq, and the refusal of a second bind. */
export function registerCore(iq: IqRouting): void {
  // XEP-0199 §4.2: a ping to the server is answered with an empty result.
  iq.server.on('get', 'ping', NS_PING, (request) => iqResult(request));
  iq.serverFeatures.add(NS_PING);
  // RFC 3921 §3: establishing a session is a no-op today.
  iq.server.on('set', 'session', NS_SESSION, (request) => iqResult(request));
  // RFC 6120 §7.7.2.1: one resource per stream.
  iq.server.on('set', 'bind', NS_BIND, () => new StanzaError('not-allowed', 'a resource is already bound'));
}
