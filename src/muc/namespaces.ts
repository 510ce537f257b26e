/** XEP-0045 §19.1 and the other namespaces the MUC service speaks. */
export const NS_MUC = 'http://jabber.org/protocol/muc';
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
export const NS_MUC_ADMIN = 'http://jabber.org/protocol/muc#admin';
export const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
export const NS_MUC_ROOMCONFIG = 'http://jabber.org/protocol/muc#roomconfig';
export const NS_MUC_ROOMINFO = 'http://jabber.org/protocol/muc#roominfo';
/** XEP-0045 §7.13 / §8.6: the voice request form (FORM_TYPE) and its disco feature. */
export const NS_MUC_REQUEST = 'http://jabber.org/protocol/muc#request';
export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
/** XEP-0004 data forms. */
export const NS_DATA = 'jabber:x:data';
/** XEP-0203 delayed delivery (discussion history). */
export const NS_DELAY = 'urn:xmpp:delay';
/** XEP-0359 unique and stable stanza ids. */
export const NS_SID = 'urn:xmpp:sid:0';
/** XEP-0054 vcard-temp. */
export const NS_VCARD = 'vcard-temp';
/** XEP-0313 message archive management. */
export const NS_MAM = 'urn:xmpp:mam:2';
/** XEP-0410 MUC self-ping (its feature; the ping itself is XEP-0199). */
export const NS_MUC_SELF_PING = 'http://jabber.org/protocol/muc#self-ping-optimization';
/**
 * This server's member notice: a member of a room who is not in it hears that the room has a new
 * message (room, sequence number, sender), so a client can fetch what it missed.
 */
export const NS_MUC_NOTICE = 'urn:bosh-gateway:muc-notice:0';
