import { readFileSync } from 'node:fs';
import type { WebhookSinkRecord } from '../store/webhook-store';
import { sinkRecordOf, type SinkInput } from './sink-definition';
import { WebhookError } from './webhook-error';

/**
 * WEBHOOKS_FILE: a JSON array of sink definitions (or `{ "sinks": [...] }`), each with an `id` and a
 * `secret` (or `secrets`, newest first, during a rotation): a file's sinks must sign with secrets the
 * receivers already know, so none is generated. Read once at start; the sinks are read-only over the
 * API. A bad file stops the node with the entry and field at fault.
 */
export function loadSinksFile(path: string, now: number): WebhookSinkRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`WEBHOOKS_FILE ${path}: ${(err as Error).message}`);
  }
  const entries = Array.isArray(parsed) ? parsed : (parsed as { sinks?: unknown } | null)?.sinks;
  if (!Array.isArray(entries)) throw new Error(`WEBHOOKS_FILE ${path}: expected an array of sinks or { "sinks": [...] }`);
  const seen = new Set<string>();
  return entries.map((entry: unknown, index) => {
    const input = entry as SinkInput;
    try {
      if (typeof input !== 'object' || input === null || typeof input.id !== 'string') throw new WebhookError('invalid', 'id: required', 'id');
      if (input.secret === undefined && input.secrets === undefined) throw new WebhookError('invalid', 'secret: required in a file', 'secret');
      if (seen.has(input.id)) throw new WebhookError('invalid', `id: '${input.id}' appears twice`, 'id');
      seen.add(input.id);
      return sinkRecordOf(input, input.id, now).record;
    } catch (err) {
      throw new Error(`WEBHOOKS_FILE ${path}: sink ${index}: ${(err as Error).message}`);
    }
  });
}
