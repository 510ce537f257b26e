import { createHash, timingSafeEqual } from 'node:crypto';
import type { Element } from 'ltx';
import { NS_MUC } from './namespaces';

/** XEP-0045 §7.2.6: the password a user gave on entering, <x xmlns='…muc'><password/></x>, if any. */
export function suppliedPassword(join: Element): string | undefined {
  return join.getChild('x', NS_MUC)?.getChildText('password') ?? undefined;
}

/** Whether the given password is the room's, compared in constant time (digests of equal length). */
export function passwordMatches(given: string | undefined, secret: string): boolean {
  if (given === undefined) return false;
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(secret));
}
