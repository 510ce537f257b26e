import { Element } from 'ltx';
import { bounceAddress } from '../../src/routing/bounce-address';

const reply = (to: string) => new Element('message', { type: 'error', to });
const components = (domain: string) => domain === 'conference.localhost';

describe('where an error reply goes (RFC 6120 §8.3)', () => {
  it('to a full JID of a user of the domain, never to a bare JID or the domain itself', () => {
    expect(bounceAddress(reply('alice@localhost/desk'), 'localhost', components)?.full).toBe('alice@localhost/desk');
    expect(bounceAddress(reply('alice@localhost'), 'localhost', components)).toBeUndefined();
    expect(bounceAddress(reply('localhost'), 'localhost', components)).toBeUndefined();
  });

  it('to a room or an occupant JID at a component, so the room hears of an occupant whose session is gone (XEP-0045 status 333)', () => {
    expect(bounceAddress(reply('team@conference.localhost/al'), 'localhost', components)?.full).toBe('team@conference.localhost/al');
    expect(bounceAddress(reply('team@conference.localhost'), 'localhost', components)?.full).toBe('team@conference.localhost');
  });

  it('never to a component’s own domain, a domain no component serves, or without a known component', () => {
    expect(bounceAddress(reply('conference.localhost'), 'localhost', components)).toBeUndefined();
    expect(bounceAddress(reply('team@elsewhere.example/al'), 'localhost', components)).toBeUndefined();
    expect(bounceAddress(reply('team@conference.localhost/al'), 'localhost')).toBeUndefined();
  });
});
