import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A 127.0.0.1 HTTP server for one file with Range support; `cutAfter` drops the first response mid-body. */
export async function serveFile(file: string, opts: { cutAfter?: number } = {}) {
  const data = await readFile(file);
  const seen: (string | undefined)[] = [];
  let cut = opts.cutAfter;
  const server = createServer((req, res) => {
    seen.push(req.headers.range);
    if (req.url === '/missing') {
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (start >= data.length && m) {
      res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
      return;
    }
    const body = data.subarray(start);
    res.writeHead(m ? 206 : 200, {
      'content-length': body.length,
      ...(m ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
    });
    if (cut !== undefined) {
      const n = cut;
      cut = undefined;
      // FIN after the bytes (not a reset), so the client receives them before the early end.
      res.write(body.subarray(0, n), () => res.socket?.end());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/bundle.tar.gz`,
    base: `http://127.0.0.1:${port}`,
    seen,
    size: data.length,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
