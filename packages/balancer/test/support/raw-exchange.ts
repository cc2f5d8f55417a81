import { connect } from 'node:net';

/**
 * Sends `text` as it is on a new connection to `url`'s host and port, and returns everything
 * answered until the connection closes (or 2 s pass): for requests no HTTP client would send.
 */
export function rawExchange(url: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(url).port), new URL(url).hostname, () => socket.write(text));
    let answer = '';
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', reject);
  });
}
