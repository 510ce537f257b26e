// Start-up with a large USERS_FILE: the node is started in the bench's own process (the same `startNode` that
// `src/main.ts` calls) and timed until it listens, then closed. Indexing the file is most of that time.
import { startNode } from '../../src/app';
import { loadConfig } from '../../src/config';

export interface StartupResult {
  usersFileLines: number;
  /** the fastest of the runs (other processes can only make one slower) */
  ms: number;
  runs: number[];
}

export async function measureStartup(usersFile: string, usersFileLines: number, domain: string, runs = 3): Promise<StartupResult> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', XMPP_DOMAIN: domain, USERS_FILE: usersFile, WEB_CLIENT: 'false', LOG_LEVEL: 'silent' });
    const started = performance.now();
    const node = await startNode(config);
    times.push(performance.now() - started);
    await node.close();
  }
  return { usersFileLines, ms: Math.min(...times), runs: times };
}
