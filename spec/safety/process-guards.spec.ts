import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { createLogger } from '../../src/observability/logger';
import { installProcessGuards } from '../../src/safety/process-guards';

const ROOT = resolve(__dirname, '../..');

/** Runs `script` in a fresh node process with the guards installed; returns its exit status and output. */
function runGuarded(script: string): { status: number | null; stdout: string } {
  const prelude =
    "const { installProcessGuards } = require('./src/safety/process-guards');" +
    "const { createLogger } = require('./src/observability/logger');" +
    "installProcessGuards(process, createLogger('error'));";
  const result = spawnSync(process.execPath, ['-r', './scripts/register-ts.js', '-e', prelude + script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout };
}

function logLines(stdout: string): Array<{ level: number; msg: string; err?: { message: string } }> {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string; err?: { message: string } });
}

describe('the process-level safety net', () => {
  it('logs an unhandled rejection at error level and keeps the process running', () => {
    const { status, stdout } = runGuarded("Promise.reject(new Error('nobody listened')); setTimeout(() => console.log('still serving'), 50);");
    expect(status).toBe(0);
    expect(stdout).toContain('still serving');
    const logged = logLines(stdout).find((line) => line.msg.includes('unhandled promise rejection'));
    expect(logged?.level).toBe(50);
    expect(logged?.err?.message).toBe('nobody listened');
  });

  it('logs an uncaught exception at fatal level and exits with status 1', () => {
    const { status, stdout } = runGuarded("setTimeout(() => { throw new Error('broken state'); }, 0); setTimeout(() => console.log('should not run'), 200);");
    expect(status).toBe(1);
    expect(stdout).not.toContain('should not run');
    const logged = logLines(stdout).find((line) => line.msg.includes('uncaught exception'));
    expect(logged?.level).toBe(60);
    expect(logged?.err?.message).toBe('broken state');
  });

  it('without the guards, the same rejection ends the process (what the guard prevents)', () => {
    const result = spawnSync(process.execPath, ['-e', "Promise.reject(new Error('x')); setTimeout(() => console.log('still serving'), 50);"], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stdout).not.toContain('still serving');
  });

  it('installs one listener for each event and exits through the injected function', () => {
    const target = new EventEmitter();
    const exits: number[] = [];
    installProcessGuards(target, createLogger('silent'), (code) => exits.push(code));
    target.emit('unhandledRejection', new Error('r'));
    expect(exits).toEqual([]);
    target.emit('uncaughtException', new Error('e'));
    expect(exits).toEqual([1]);
  });
});
