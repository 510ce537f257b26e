/** XEP-0313 message archive management, version 2. */
export const NS_MAM = 'urn:xmpp:mam:2';
/** XEP-0313 §7.1: ids, before-id, after-id, the metadata query. */
export const NS_MAM_EXTENDED = 'urn:xmpp:mam:2#extended';
/** XEP-0059 result set management. */
export const NS_RSM = 'http://jabber.org/protocol/rsm';
/** XEP-0004 data forms. */
export const NS_DATA = 'jabber:x:data';
/** XEP-0297 stanza forwarding. */
export const NS_FORWARD = 'urn:xmpp:forward:0';
/** XEP-0203 delayed delivery. */
export const NS_DELAY = 'urn:xmpp:delay';
