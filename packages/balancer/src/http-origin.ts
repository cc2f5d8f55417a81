/**
 * Whether `url` is a bare http(s) origin, such as `http://10.0.0.7:3000`: no credentials, path,
 * query or fragment. What a backend, a health-checked origin and a dispatcher's logical origin
 * must be.
 */
export function isHttpOrigin(url: URL | null): url is URL {
  return (
    url !== null &&
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.username === '' &&
    url.password === '' &&
    url.pathname === '/' &&
    url.search === '' &&
    url.hash === ''
  );
}
