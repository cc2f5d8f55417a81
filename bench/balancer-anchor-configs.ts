/**
 * Configuration files for the anchors the balancer benchmarks compare against, as measured for
 * this project (../shared/reference/measured-anchors.md): nginx (1 worker, upstream keepalive 64)
 * and HAProxy (nbthread 1, http-reuse always, maxconn 4000), plus nginx `return 200` backends.
 * Pure text builders; everything they write (pid, logs, temp files) stays in `dir`.
 */

/** nginx's `upstream` balancing methods the benches use. */
export type NginxMethod = 'round-robin' | 'least_conn';

/** HAProxy `balance` algorithms the benches use. */
export type HaproxyBalance = 'roundrobin' | 'leastconn' | 'random(2)';

/** Settings every foreground nginx of the benches shares: no system paths, no access log. */
function nginxPreamble(dir: string, workerConnections: number): string {
  return `worker_processes 1;
pid ${dir}/nginx-$NAME.pid;
error_log stderr warn;
events { worker_connections ${workerConnections}; }
`;
}

function nginxHttpPaths(dir: string): string {
  return `  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
`;
}

/**
 * One nginx, one worker, answering `200` on each of `ports` (and on `/readyz`, for balancers that
 * probe readiness): backends that are not the bottleneck.
 */
export function nginxBackendsConfig(dir: string, ports: readonly number[]): string {
  const servers = ports
    .map(
      (port) => `  server {
    listen 127.0.0.1:${port};
    location = /readyz { return 200; }
    location / { return 200; }
  }`,
    )
    .join('\n');
  // Backends never close a keep-alive connection (nginx's default does after 1000 requests), so
  // proxies that pool connections do not pay for reconnects the anchors did not measure.
  return `${nginxPreamble(dir, 4096).replace('$NAME', 'backends')}http {
${nginxHttpPaths(dir)}  keepalive_requests 100000000;
  keepalive_timeout 300s;
${servers}
}
`;
}

/** nginx as the proxy under test, as in the anchors: 1 worker, HTTP/1.1 upstream keep-alive 64. */
export function nginxProxyConfig(
  dir: string,
  port: number,
  backends: readonly string[],
  method: NginxMethod,
): string {
  const servers = backends.map((b) => `    server ${new URL(b).host};`).join('\n');
  return `${nginxPreamble(dir, 8192).replace('$NAME', `proxy-${port}`)}worker_rlimit_nofile 16384;
http {
${nginxHttpPaths(dir)}  upstream be {
${method === 'least_conn' ? '    least_conn;\n' : ''}${servers}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://be;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

/** HAProxy as the proxy under test, as in the anchors: one thread, keep-alive both sides, `http-reuse always`. */
export function haproxyConfig(port: number, backends: readonly string[], balance: HaproxyBalance): string {
  const servers = backends.map((b, i) => `  server s${i + 1} ${new URL(b).host}`).join('\n');
  return `global
  nbthread 1
  maxconn 4000

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 30s
  timeout server 30s

frontend fe
  bind 127.0.0.1:${port}
  default_backend be

backend be
  balance ${balance}
${servers}
`;
}
