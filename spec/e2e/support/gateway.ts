/**
 * Starts a gateway node in-process through the public entry points
 * (src/config.ts loadConfig + src/app.ts startNode), with test defaults.
 * Only the values given here are passed: the caller's process.env is not read,
 * so an exported PORT or USERS on the machine cannot leak into a test.
 */
import { loadConfig } from '../../../src/config';
import { startNode } from '../../../src/app';

export type RunningGateway = Awaited<ReturnType<typeof startNode>>;

export const TEST_DOMAIN = 'localhost';
export const TEST_PASSWORD = 'secret';

export function gatewayEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: '0',
    STORAGE: 'memory',
    XMPP_DOMAIN: TEST_DOMAIN,
    BOSH_PATH: '/http-bind',
    USERS: `alice:${TEST_PASSWORD},bob:${TEST_PASSWORD}`,
    BOSH_MAX_WAIT: '60',
    BOSH_INACTIVITY: '60',
    LOG_LEVEL: 'silent',
    ...overrides,
  };
}

export async function startGateway(overrides: Record<string, string> = {}): Promise<RunningGateway> {
  return startNode(loadConfig(gatewayEnv(overrides)));
}
