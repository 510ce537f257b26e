/**
 * Child processes that each lead a process group of their own (spawn with
 * `detached: true`), so that a test can kill a process *and everything it
 * started* (nginx's workers) with one `kill(-pgid)`, and can then prove that
 * nothing of the group is left.
 *
 * Output goes to a file (not a pipe): a chatty child can never block on a full
 * pipe, and the log survives for failure messages.
 *
 * A last-resort `exit` hook SIGKILLs every group still registered, so that a
 * crashed or interrupted jest run leaves no servers behind either.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';

const liveGroups = new Set<number>();

process.once('exit', () => {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export interface GroupSpawnOptions {
  readonly cwd?: string;
  readonly env: NodeJS.ProcessEnv;
  /** stdout and stderr both go here (appended). */
  readonly logFile: string;
  /** Run as this user/group (e.g. nobody when the test runs as root). */
  readonly uid?: number;
  readonly gid?: number;
}

export class GroupProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(
    readonly label: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  static spawn(label: string, command: string, args: readonly string[], options: GroupSpawnOptions): GroupProcess {
    const fd = openSync(options.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env,
        detached: true,
        stdio: ['ignore', fd, fd],
        ...(options.uid !== undefined ? { uid: options.uid } : {}),
        ...(options.gid !== undefined ? { gid: options.gid } : {}),
      });
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`${label}: could not spawn ${command}`);
    liveGroups.add(child.pid);
    // A spawn error (ENOENT…) must not become an unhandled 'error' event.
    child.on('error', () => undefined);
    return new GroupProcess(label, child, options.logFile);
  }

  /** The process group id: the child leads its own group (detached). */
  get pgid(): number {
    return this.child.pid as number;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  get exitDescription(): string {
    return this.exitInfo ? `exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal})` : 'running';
  }

  /** Signals the whole group (the process and anything it started). */
  signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pgid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  /**
   * SIGKILLs the group and waits (bounded) until no live member is left. Returns the members
   * still alive at the deadline (empty when the group is gone).
   */
  async killGroup(timeoutMs = 5_000): Promise<GroupMember[]> {
    this.signalGroup('SIGKILL');
    const deadline = Date.now() + timeoutMs;
    let left = liveMembers(this.pgid);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      left = liveMembers(this.pgid);
    }
    if (left.length === 0) liveGroups.delete(this.pgid);
    // The leader is our child: wait for node to reap it (bounded).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
    clearTimeout(timer);
    return left;
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** The last lines of the log, for failure messages. */
  tail(lines = 30): string {
    const all = this.log().trimEnd().split('\n');
    return `--- ${this.label} (${this.exitDescription}), last ${Math.min(lines, all.length)} log lines ---\n${all.slice(-lines).join('\n')}`;
  }
}

export interface GroupMember {
  readonly pid: number;
  readonly state: string;
  readonly command: string;
}

/**
 * The members of a process group that are still alive, read from /proc (Linux): a zombie is not
 * alive (it holds no resources; only its parent can reap it), everything else is.
 */
export function liveMembers(pgid: number): GroupMember[] {
  const members: GroupMember[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    // No procfs: fall back to the signal-0 probe (counts zombies as alive).
    try {
      process.kill(-pgid, 0);
      return [{ pid: -pgid, state: '?', command: '?' }];
    } catch {
      return [];
    }
  }
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid pgrp ... — comm may contain spaces and parentheses: split at the last ')'.
    const close = stat.lastIndexOf(')');
    const command = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    const state = fields[0] ?? '?';
    const pgrp = Number(fields[2]);
    if (pgrp === pgid && state !== 'Z' && state !== 'X') members.push({ pid: Number(entry), state, command });
  }
  return members;
}
