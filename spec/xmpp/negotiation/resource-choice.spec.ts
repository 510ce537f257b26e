import { chooseResource } from '../../../src/xmpp/negotiation/resource-choice';
import { StanzaError } from '../../../src/base/stanza-error';

const free = () => false;
const taken = () => true;

describe('the resource a bind request gets (RFC 6120 §7.6, §7.7)', () => {
  it('generates one when the client asks for none', () => {
    const choice = chooseResource(null, free, 'replace');
    expect(choice).toMatchObject({ replacing: false });
    expect(choice instanceof StanzaError ? '' : choice.resource).not.toBe('');
  });

  it('refuses an unusable resource with bad-request', () => {
    expect(chooseResource('a\u0001b', free, 'replace')).toMatchObject({ condition: 'bad-request' });
  });

  it("takes over a resource in use under 'replace', renames under 'override' and refuses under 'refuse'", () => {
    expect(chooseResource('desk', taken, 'replace')).toEqual({ resource: 'desk', replacing: true });
    const overridden = chooseResource('desk', taken, 'override');
    expect(overridden instanceof StanzaError ? undefined : overridden.resource).toMatch(/^desk-[0-9a-f]{6}$/);
    expect(chooseResource('desk', taken, 'refuse')).toMatchObject({ condition: 'conflict' });
  });
});
