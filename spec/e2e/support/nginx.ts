/**
 * A real nginx (Debian's /usr/sbin/nginx) in front of several gateway nodes, run by the test in
 * the foreground (`daemon off`) with a configuration, pid file, logs and temp paths all inside a
 * temporary directory, listening on a free loopback port: no privileges, no system files.
 *
 * When the test runs as root, nginx is started as `nobody` (the temp directory is handed to that
 * user): the master then has no privileges to drop and the `user` directive is not needed.
 *
 * The access log is one JSON object per request, with the upstream that served it
 * ($upstream_addr), its status, and the BOSH body the client sent: the test reads it to prove that
 * requests were spread over the nodes and to show, on failure, which node answered what.
 */
import { existsSync, readFileSync, chownSync, writeFileSync, mkdirSync, chmodSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { GroupProcess, type GroupMember } from './process-group';

export const NGINX_BINARY = '/usr/sbin/nginx';

export interface NginxOptions {
  /** Directory for nginx.conf, pid, logs and temp files (created if missing). */
  readonly dir: string;
  /** Port nginx listens on (127.0.0.1). */
  readonly port: number;
  /** Loopback ports of the gateway nodes (the upstream). */
  readonly upstreamPorts: readonly number[];
  /** The highest BOSH `wait` a node grants (seconds): proxy_read_timeout must be above it. */
  readonly boshMaxWaitSeconds: number;
  /** Passive health check: failures before an upstream is skipped, and for how long. */
  readonly maxFails: number;
  readonly failTimeoutSeconds: number;
}

export interface AccessEntry {
  readonly time: string;
  /** When the request finished (log time), in seconds since the epoch with millisecond precision. */
  readonly msec: string;
  /** "127.0.0.1:port" of the node that served the request ('' if none was reached). */
  readonly upstream: string;
  readonly status: number;
  readonly upstreamStatus: string;
  readonly method: string;
  readonly uri: string;
  readonly requestTime: string;
  /** The request body (a BOSH <body/>), as received from the client. */
  readonly body: string;
}

/** nginx.conf for a round-robin, non-sticky BOSH load balancer (see the comments inside). */
export function nginxConfig(options: NginxOptions): string {
  const { dir } = options;
  const servers = options.upstreamPorts
    .map((port) => `    server 127.0.0.1:${port} max_fails=${options.maxFails} fail_timeout=${options.failTimeoutSeconds}s;`)
    .join('\n');
  return `# Written by spec/e2e/support/nginx.ts for one test run.
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;

events {
    worker_connections 1024;
}

http {
    log_format bosh escape=json '{"time":"$time_iso8601","msec":"$msec","upstream":"$upstream_addr","status":$status,'
        '"upstreamStatus":"$upstream_status","method":"$request_method","uri":"$request_uri",'
        '"requestTime":"$request_time","body":"$request_body"}';
    access_log ${dir}/access.log bosh;

    client_body_temp_path ${dir}/client_body_temp;
    proxy_temp_path ${dir}/proxy_temp;
    fastcgi_temp_path ${dir}/fastcgi_temp;
    uwsgi_temp_path ${dir}/uwsgi_temp;
    scgi_temp_path ${dir}/scgi_temp;

    upstream bosh_nodes {
        # Round-robin (nginx's default balancing): no ip_hash, hash or sticky cookie. Any node
        # can take any request; the nodes forward a request to the node holding its session.
        #
        # max_fails/fail_timeout: open-source nginx has only passive health checks. A node that
        # died stays in the rotation; after one failed attempt it is skipped for fail_timeout,
        # then probed again with a real client request. This only bridges the gap until a
        # supervisor brings a node back on the same address (the test does that).
${servers}
        # Keep-alive connections to the nodes (needs HTTP/1.1 and an empty Connection header).
        keepalive 32;
        keepalive_timeout 60s;
    }

    server {
        listen 127.0.0.1:${options.port};
        # A held BOSH request carries only a few hundred bytes; the body is buffered in memory.
        client_body_buffer_size 64k;
        client_max_body_size 1m;
        # Browsers keep their connection to the proxy open between BOSH requests.
        keepalive_timeout 75s;

        location / {
            proxy_pass http://bosh_nodes;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # Only nodes may present the inter-node forwarding header: never pass a client's.
            proxy_set_header X-Bosh-Forwarded "";

            # A BOSH response must reach the client the moment the node writes it.
            proxy_buffering off;
            # A held request legitimately stays silent for up to 'wait' seconds: the read timeout
            # must be longer, or nginx would cut every idle long poll with a 504.
            proxy_read_timeout ${options.boshMaxWaitSeconds + 30}s;
            proxy_send_timeout ${options.boshMaxWaitSeconds + 30}s;
            proxy_connect_timeout 2s;

            # POST safety: never replay a BOSH request on another node. A request may already have
            # changed the session (a stanza accepted, the rid window advanced, a held request
            # answered) on the node that failed; sending it again elsewhere could deliver a stanza
            # twice or answer the wrong request. Retrying is the client's job: XEP-0124 section 14
            # lets it resend the same rid, and the node holding the session answers a resent rid
            # from its response cache instead of processing it twice.
            proxy_next_upstream off;
        }
    }
}
`;
}

/** uid/gid of `nobody`, for dropping privileges when the test runs as root. */
function nobody(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('nobody:'));
  const fields = line?.split(':');
  if (!fields || fields.length < 4) throw new Error('no user "nobody" in /etc/passwd to run nginx as');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

export class NginxLoadBalancer {
  private constructor(
    readonly options: NginxOptions,
    readonly process: GroupProcess,
  ) {}

  /** Writes the configuration, checks it with `nginx -t`, starts nginx and waits for its port. */
  static async start(options: NginxOptions): Promise<NginxLoadBalancer> {
    if (!existsSync(NGINX_BINARY)) {
      throw new Error(
        `${NGINX_BINARY} is missing: this suite needs Debian's nginx (apt-get update && apt-get install -y nginx). It fails instead of skipping.`,
      );
    }
    mkdirSync(options.dir, { recursive: true });
    const conf = join(options.dir, 'nginx.conf');
    writeFileSync(conf, nginxConfig(options));
    const asRoot = process.getuid?.() === 0;
    const user = asRoot ? nobody() : undefined;
    if (user) {
      chownSync(options.dir, user.uid, user.gid);
      chownSync(conf, user.uid, user.gid);
      chmodSync(options.dir, 0o755);
      // nobody must be able to reach the directory: directories of ours on the way (a mkdtemp
      // directory is 0700) get search permission for others, nothing more.
      for (let up = dirname(options.dir); up !== dirname(up); up = dirname(up)) {
        const st = statSync(up);
        if (st.uid === process.getuid?.() && (st.mode & 0o001) === 0) chmodSync(up, (st.mode & 0o7777) | 0o011);
      }
    }
    const args = ['-p', options.dir, '-c', conf, '-e', join(options.dir, 'error.log'), '-g', 'daemon off;'];
    const spawnOptions = { env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/bin' }, ...(user ?? {}) };

    // Configuration errors are reported plainly instead of as a port that never opens.
    const check = GroupProcess.spawn('nginx -t', NGINX_BINARY, [...args.slice(0, -2), '-t'], {
      ...spawnOptions,
      logFile: join(options.dir, 'nginx-t.log'),
    });
    let timer: NodeJS.Timeout | undefined;
    const checked = await Promise.race([check.exited, new Promise<null>((r) => (timer = setTimeout(() => r(null), 10_000)))]);
    clearTimeout(timer);
    if (!checked || checked.code !== 0) {
      await check.killGroup();
      throw new Error(`nginx -t rejected the configuration:\n${check.log()}\n${readFileSync(conf, 'utf8')}`);
    }

    const nginx = GroupProcess.spawn('nginx', NGINX_BINARY, args, { ...spawnOptions, logFile: join(options.dir, 'nginx.out.log') });
    const balancer = new NginxLoadBalancer(options, nginx);
    const deadline = Date.now() + 10_000;
    while (!(await portAccepts(options.port))) {
      if (nginx.hasExited || Date.now() > deadline) {
        await nginx.killGroup();
        throw new Error(`nginx did not start listening on ${options.port}: ${nginx.exitDescription}\n${balancer.errorLog()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return balancer;
  }

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get boshUrl(): string {
    return `${this.url}/http-bind`;
  }

  accessLog(): AccessEntry[] {
    let text: string;
    try {
      text = readFileSync(join(this.options.dir, 'access.log'), 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as AccessEntry);
  }

  errorLog(): string {
    try {
      return readFileSync(join(this.options.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** SIGKILLs nginx's process group (master and workers); returns members still alive, if any. */
  stop(): Promise<GroupMember[]> {
    return this.process.killGroup();
  }
}
