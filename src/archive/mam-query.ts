import { Element } from 'ltx';
import { StanzaError } from '../base/stanza-error';
import type { ArchiveQuery } from '../store/archive-store';
import { NS_DATA, NS_MAM, NS_RSM } from './namespaces';

/** XEP-0313 §4.1.3: a page holds at most this many messages, whatever the client asks. */
export const MAX_PAGE = 250;
/** The page size when the client gives no RSM max. */
export const DEFAULT_PAGE = 50;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Reads a XEP-0313 <query/> into a query of `owner`'s archive: the form's fields (§4.1.1: with, start,
 * end; §7.1 #extended: after-id, before-id, ids) and the XEP-0059 <set/> (max, after, before; an empty
 * <before/> is the last page). A field it does not know, a date that is not XEP-0082, or an RSM
 * <index/> (no offsets here) is a StanzaError for the client.
 */
export function readMamQuery(query: Element, owner: string): ArchiveQuery | StanzaError {
  const request: Mutable<ArchiveQuery> = { owner, limit: DEFAULT_PAGE };
  const form = query.getChild('x', NS_DATA);
  for (const field of form?.getChildren('field') ?? []) {
    const name = String(field.attrs.var ?? '');
    const values = field.getChildren('value').map((v) => v.getText());
    const value = values[0] ?? '';
    switch (name) {
      case 'FORM_TYPE':
        if (value !== NS_MAM) return new StanzaError('bad-request', `FORM_TYPE must be ${NS_MAM}`);
        break;
      case 'with':
        if (value !== '') request.with = value;
        break;
      case 'start':
      case 'end': {
        const date = dateOf(value);
        if (!date) return new StanzaError('bad-request', `${name} is not a XEP-0082 date and time`);
        if (name === 'start') request.start = date;
        else request.end = date;
        break;
      }
      case 'after-id':
        request.afterId = value;
        break;
      case 'before-id':
        request.beforeId = value;
        break;
      case 'ids':
        request.ids = values;
        break;
      default:
        // XEP-0313 §4.1.1: a field the server does not support is an error, not silently ignored.
        return new StanzaError('bad-request', `unsupported field ${name}`);
    }
  }
  const set = query.getChild('set', NS_RSM);
  if (set) {
    if (set.getChild('index')) return new StanzaError('feature-not-implemented', 'RSM index is not supported; page with after and before');
    const max = set.getChildText('max');
    if (max !== null) {
      if (!/^[0-9]{1,9}$/.test(max)) return new StanzaError('bad-request', 'RSM max is a whole number');
      request.limit = Math.min(Number(max), MAX_PAGE);
    }
    const after = set.getChild('after');
    if (after) request.after = after.getText();
    const before = set.getChild('before');
    if (before) request.before = before.getText();
  }
  return request;
}

/** XEP-0082 date and time (with a zone); undefined for anything else. */
function dateOf(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** XEP-0313 §5.1.1: the search form, the fields readMamQuery understands. */
export function mamSearchForm(): Element {
  const x = new Element('x', { xmlns: NS_DATA, type: 'form' });
  x.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(NS_MAM);
  x.c('field', { var: 'with', type: 'jid-single' });
  x.c('field', { var: 'start', type: 'text-single' });
  x.c('field', { var: 'end', type: 'text-single' });
  x.c('field', { var: 'after-id', type: 'text-single' });
  x.c('field', { var: 'before-id', type: 'text-single' });
  x.c('field', { var: 'ids', type: 'text-multi' });
  return x;
}
