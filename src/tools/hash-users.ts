/**
 * Converts a users file of `name:password` lines into `name:$scram$…` lines, so a node starts with
 * derived keys only and the plain-text file can be deleted.
 *   node dist/tools/hash-users.js users.txt [--iterations 4096] > users.hashed
 */
import { readFile } from 'node:fs/promises';
import { deriveScramKeys, encodeKeys } from '../store/scram-keys';
import { HASHED_PREFIX, parseUserLine } from '../store/users-file';

async function main(argv: string[]): Promise<void> {
  const args = [...argv];
  let iterations = 4096;
  const at = args.indexOf('--iterations');
  if (at >= 0) {
    iterations = Number(args[at + 1]);
    args.splice(at, 2);
  }
  const [input] = args;
  if (!input || !Number.isInteger(iterations) || iterations < 4096) {
    process.stderr.write('usage: hash-users <users-file> [--iterations N>=4096] > hashed-file\n');
    process.exit(2);
  }
  const lines = (await readFile(input, 'utf8')).split('\n');
  for (const [index, text] of lines.entries()) {
    const line = parseUserLine(text, `${input}:${index + 1}`);
    if (!line) continue;
    if (line.keys) {
      process.stdout.write(`${text.replace(/\r$/, '')}\n`);
      continue;
    }
    const password = line.password as string;
    const [sha1, sha256] = await Promise.all([deriveScramKeys('SHA-1', password, iterations), deriveScramKeys('SHA-256', password, iterations)]);
    process.stdout.write(`${line.username}:${HASHED_PREFIX}${encodeKeys(sha1)}$${encodeKeys(sha256)}\n`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
