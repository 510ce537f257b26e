export const NS_HTTPBIND = 'http://jabber.org/protocol/httpbind';
export const NS_XBOSH = 'urn:xmpp:xbosh';
export const NS_STREAM = 'http://etherx.jabber.org/streams';
/** The highest XEP-0124 version this connection manager implements. */
export const BOSH_VERSION = '1.11';
