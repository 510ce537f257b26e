import { parse } from 'ltx';
import { DEFAULT_PAGE, MAX_PAGE, readMamQuery } from '../../src/archive/mam-query';
import { StanzaError } from '../../src/base/stanza-error';

const MAM = 'urn:xmpp:mam:2';
const query = (inner: string) => parse(`<query xmlns='${MAM}' queryid='q'>${inner}</query>`);
const form = (fields: string) => `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${MAM}</value></field>${fields}</x>`;

describe('reading a XEP-0313 query', () => {
  it('reads no form and no set as the first page of the whole archive', () => {
    expect(readMamQuery(query(''), 'a@x')).toEqual({ owner: 'a@x', limit: DEFAULT_PAGE });
  });

  it('reads every form field and the RSM set', () => {
    const read = readMamQuery(
      query(
        form(
          `<field var='with'><value>b@x</value></field><field var='start'><value>2026-01-01T00:00:00Z</value></field>` +
            `<field var='end'><value>2026-01-02T00:00:00.500+01:00</value></field><field var='after-id'><value>a1</value></field>` +
            `<field var='before-id'><value>b1</value></field><field var='ids'><value>i1</value><value>i2</value></field>`,
        ) + `<set xmlns='http://jabber.org/protocol/rsm'><max>10</max><after>r1</after></set>`,
      ),
      'a@x',
    );
    expect(read).toEqual({
      owner: 'a@x',
      limit: 10,
      with: 'b@x',
      start: new Date('2026-01-01T00:00:00Z'),
      end: new Date('2026-01-01T23:00:00.500Z'),
      afterId: 'a1',
      beforeId: 'b1',
      ids: ['i1', 'i2'],
      after: 'r1',
    });
  });

  it('reads an empty <before/> as the last page, and bounds max', () => {
    expect(readMamQuery(query(`<set xmlns='http://jabber.org/protocol/rsm'><max>100000</max><before/></set>`), 'a@x')).toEqual({
      owner: 'a@x',
      limit: MAX_PAGE,
      before: '',
    });
  });

  it.each([
    ['a date that is not XEP-0082', form(`<field var='start'><value>yesterday</value></field>`), 'bad-request'],
    ['a field it does not know', form(`<field var='fulltext'><value>x</value></field>`), 'bad-request'],
    ['another FORM_TYPE', `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:xmpp:mam:1</value></field></x>`, 'bad-request'],
    ['a max that is not a number', `<set xmlns='http://jabber.org/protocol/rsm'><max>ten</max></set>`, 'bad-request'],
    ['an RSM index', `<set xmlns='http://jabber.org/protocol/rsm'><index>3</index></set>`, 'feature-not-implemented'],
  ])('refuses %s', (_what, inner, condition) => {
    const read = readMamQuery(query(inner), 'a@x');
    expect(read).toBeInstanceOf(StanzaError);
    expect((read as StanzaError).condition).toBe(condition);
  });
});
