import { Element } from 'ltx';
import type { Component, ComponentOutlet } from '../../src/components';
import { StanzaError } from '../../src/base/stanza-error';

/**
 * A test component: a message comes back to its sender from the address it was sent to, its body
 * prefixed with 'echo: ' and the node that answered; an iq get gets an empty result. A message whose
 * body is 'refuse' is answered with not-acceptable, thrown as a StanzaError.
 */
export class EchoComponent implements Component {
  readonly name = 'Echo';
  private outlet: ComponentOutlet | undefined;
  /** Every stanza handled, as received. */
  readonly handled: Element[] = [];

  constructor(
    readonly domain: string,
    private readonly node = 'local',
  ) {}

  attach(outlet: ComponentOutlet): void {
    this.outlet = outlet;
  }

  /** A message of the component's own, to any user of the domain (on any node). */
  async announce(to: string, text: string): Promise<void> {
    if (!this.outlet) throw new Error('not attached');
    const message = new Element('message', { xmlns: 'jabber:client', from: this.domain, to, type: 'chat' });
    message.c('body').t(text);
    await this.outlet.send(message);
  }

  async handle(stanza: Element): Promise<void> {
    this.handled.push(stanza);
    const outlet = this.outlet;
    if (!outlet) throw new Error('not attached');
    const from = String(stanza.attrs.to);
    const to = String(stanza.attrs.from);
    if (stanza.name === 'message' && stanza.attrs.type !== 'error') {
      const body = stanza.getChildText('body') ?? '';
      if (body === 'refuse') throw new StanzaError('not-acceptable', 'the echo refuses that');
      const reply = new Element('message', { xmlns: 'jabber:client', from, to, type: stanza.attrs.type ?? 'normal' });
      reply.c('body').t(`echo: ${body} (${this.node})`);
      await outlet.send(reply);
    } else if (stanza.name === 'iq' && stanza.attrs.type === 'get') {
      await outlet.send(new Element('iq', { xmlns: 'jabber:client', from, to, type: 'result', id: stanza.attrs.id }));
    }
  }
}
