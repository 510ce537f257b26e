import { Element } from 'ltx';
import { cloneElement } from '../xml';
import type { IqRouting } from './iq-handlers';
import { iqResult } from './iq-handlers';
import { NS_CLIENT } from '../base/namespaces';
import type { Resource, Router } from '../routing/router';

export const NS_CARBONS = 'urn:xmpp:carbons:2';
export const NS_FORWARD = 'urn:xmpp:forward:0';
const NS_HINTS = 'urn:xmpp:hints';

/** XEP-0280 §6: which messages are copied to the user's other resources. */
function carbonEligible(message: Element): boolean {
  const type = (message.attrs.type as string | undefined) ?? 'normal';
  if (type !== 'chat' && !(type === 'normal' && message.getChild('body'))) return false;
  if (message.getChild('private', NS_CARBONS) || message.getChild('no-copy', NS_HINTS)) return false;
  // A carbon is never copied again.
  if (message.getChild('sent', NS_CARBONS) || message.getChild('received', NS_CARBONS)) return false;
  return true;
}

/** XEP-0280 §7: the wrapper sent to one resource of the owner. */
function carbonCopy(direction: 'sent' | 'received', message: Element, ownerBare: string, toFull: string): Element {
  const copy = new Element('message', { xmlns: NS_CLIENT, from: ownerBare, to: toFull, type: message.attrs.type ?? 'normal' });
  copy.c(direction, { xmlns: NS_CARBONS }).c('forwarded', { xmlns: NS_FORWARD }).cnode(cloneElement(message));
  return copy;
}

/** Copies a message to the owner's carbon-enabled resources other than those that already have it. */
export async function sendCarbons(
  router: Router,
  direction: 'sent' | 'received',
  message: Element,
  ownerBare: string,
  except: readonly Pick<Resource, 'jid'>[],
  known?: readonly Resource[],
): Promise<void> {
  if (!carbonEligible(message)) return;
  const skip = new Set(except.map((r) => r.jid.full));
  // The owner's resources, when the caller just looked them up (routing did), are not fetched again.
  for (const resource of known ?? (await router.resourcesOf(ownerBare))) {
    if (!resource.carbons || skip.has(resource.jid.full)) continue;
    resource.deliver(carbonCopy(direction, message, ownerBare, resource.jid.full));
  }
}

/** XEP-0280 §4: enable and disable, per resource. */
export function registerCarbons(iq: IqRouting, router: Router): void {
  const toggle = (enabled: boolean) => async (request: Element, _payload: Element, context: { from: { bare: string; resource: string } }) => {
    const session = router.find(context.from.bare, context.from.resource);
    if (session && router.stateOf(session).carbons !== enabled) await router.update(session, { carbons: enabled });
    return iqResult(request);
  };
  iq.server.on('set', 'enable', NS_CARBONS, toggle(true));
  iq.server.on('set', 'disable', NS_CARBONS, toggle(false));
  iq.serverFeatures.add(NS_CARBONS);
}
