import type { Element } from 'ltx';
import { TokenBucket } from '../limits/token-bucket';
import { parseJid, type Jid } from '../base/jid';
import { NS_CLIENT } from '../base/namespaces';
import { StanzaError } from '../base/stanza-error';
import type { RefusalReason } from '../base/stream';
import type { StreamErrorCondition } from '../base/stream-error';

/**
 * What the gate makes of one inbound element: it goes on (with its parsed `to`), only it is refused
 * with a stanza error while the session goes on, or the stream ends with a stream error.
 */
export type GateVerdict =
  | { readonly kind: 'pass'; readonly to: Jid | undefined }
  | { readonly kind: 'refuse'; readonly error: StanzaError }
  | { readonly kind: 'close'; readonly condition: StreamErrorCondition; readonly text: string };

export interface GateLimits {
  /** Sustained stanzas per second one session may send, and the burst above it. */
  readonly stanzasPerSecond: number;
  readonly stanzaBurst: number;
  /** Elements waiting in the mailbox while a step is async; beyond it they are refused. */
  readonly maxInboxStanzas: number;
}

const refuse = (error: StanzaError): GateVerdict => ({ kind: 'refuse', error });
const close = (condition: StreamErrorCondition, text: string): GateVerdict => ({ kind: 'close', condition, text });
const admitted: GateVerdict = { kind: 'pass', to: undefined };

/**
 * One session's checks on what its client sends, before anything acts on it: that a bound stream's
 * elements are jabber:client stanzas from the bound JID to this domain or one of its components, the
 * stanza rate, the sizes and depths the transport refused, and the bound on elements waiting in the
 * mailbox.
 */
export class StanzaGate {
  private readonly rate: TokenBucket;

  constructor(
    private readonly limits: GateLimits,
    private readonly domain: string,
    /** Whether a domain is one of this server's components (a subdomain service), reached without federation. */
    private readonly served: (domain: string) => boolean = () => false,
  ) {
    this.rate = new TokenBucket(limits.stanzasPerSecond, limits.stanzaBurst);
  }

  /**
   * Whether one more element may wait in the mailbox. When it is full the client sends faster than a
   * slow step (a store) lets the session work: a stanza of a bound session is refused with
   * resource-constraint of type 'wait' (RFC 6120 §8.3.3.18: retry later) and the session goes on;
   * anything before binding, where no client has a reason to send much, closes the stream with
   * policy-violation.
   */
  queue(element: Element, waiting: number, bound: boolean): GateVerdict {
    if (waiting < this.limits.maxInboxStanzas) return admitted;
    if (bound && isStanza(element)) return refuse(new StanzaError('resource-constraint', 'too many stanzas waiting to be processed; slow down', 'wait'));
    return close('policy-violation', 'too many elements waiting to be processed');
  }

  /** The transport refused an element as too big or too deep (RFC 6120 §8.3.3.12, §4.9.3.14). */
  refused(reason: RefusalReason, bound: boolean): GateVerdict {
    const text = reason === 'too-big' ? 'stanza larger than the size limit' : 'stanza nested deeper than the depth limit';
    if (!bound) return close('policy-violation', text);
    // Only this stanza is refused (a too-deep one arrives without its content, so none is echoed).
    return refuse(new StanzaError('policy-violation', text));
  }

  /** A bound session's element: checked, and on passing stamped with the sender's full JID and jabber:client. */
  check(element: Element, sender: Jid): GateVerdict {
    const name = element.name;
    if (!isStanza(element)) return close('unsupported-stanza-type', `<${name}/> is not a stanza`);
    if (element.attrs.xmlns !== undefined && element.attrs.xmlns !== NS_CLIENT) {
      return close('invalid-namespace', 'stanzas must be in jabber:client');
    }
    // RFC 6120 §8.1.2.1: the server stamps the sender's full JID.
    const from = element.attrs.from as string | undefined;
    if (from !== undefined) {
      // RFC 7622: compared as addresses (case-folded), not as strings.
      const claimed = parseJid(from);
      if (!claimed || (claimed.full !== sender.full && claimed.full !== sender.bare)) {
        return close('invalid-from', 'from does not match the bound JID');
      }
    }
    element.attrs.from = sender.full;
    element.attrs.xmlns = NS_CLIENT;
    if (!this.rate.take()) {
      // A client over its stanza rate hears about it and the stanza goes nowhere.
      return refuse(new StanzaError('policy-violation', 'too many stanzas; slow down', 'wait'));
    }
    if (name === 'iq' && !validIq(element)) return refuse(new StanzaError('bad-request', 'malformed iq'));

    const toText = element.attrs.to as string | undefined;
    if (toText === undefined) return admitted;
    const to = parseJid(toText);
    if (!to) return refuse(new StanzaError('jid-malformed'));
    if (to.domain !== this.domain && !this.served(to.domain)) return refuse(new StanzaError('remote-server-not-found', 'this server does not federate'));
    return { kind: 'pass', to };
  }
}

function isStanza(element: Element): boolean {
  return element.name === 'message' || element.name === 'presence' || element.name === 'iq';
}

/** RFC 6120 §8.2.3: an iq has an id, a type, and (get/set) exactly one child. */
function validIq(iq: Element): boolean {
  const type = iq.attrs.type;
  if (iq.attrs.id === undefined) return false;
  if (type === 'get' || type === 'set') return iq.children.filter((c) => typeof c !== 'string').length === 1;
  return type === 'result' || type === 'error';
}
