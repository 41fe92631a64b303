#!/usr/bin/env node
// @aws-sdk/client-s3 (including a stream upload with no Content-Length) and
// minio-js against cairn.  Starts the server through the Python helper.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'clients', 'package.json'));
const { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, ListObjectsV2Command,
        DeleteObjectsCommand, DeleteBucketCommand, HeadObjectCommand, CopyObjectCommand } = require('@aws-sdk/client-s3');
const { Upload } = require('@aws-sdk/lib-storage');
const Minio = require('minio');

let n = 0, failed = 0;
function ok(cond, name, diag) {
  n++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond) { failed++; if (diag) console.log('#   ' + String(diag).split('\n').slice(0, 20).join('\n#   ')); }
}
const md5 = (b) => createHash('md5').update(b).digest('hex');
async function bodyBytes(stream) { const parts = []; for await (const c of stream) parts.push(c); return Buffer.concat(parts); }
async function attempt(name, fn) { try { await fn(); } catch (e) { ok(false, name, e.stack || e); } }

// Start the server with the Python harness, which prints the endpoint.
const py = spawn('python3', ['-c', `
import os, sys, time
from cairn_test import Server
srv = Server(drives=4)
srv.port = 21390 + os.getpid() % 10  # ports 21390-21399
srv.endpoint = "http://127.0.0.1:%d" % srv.port
srv.start()
print(srv.endpoint, flush=True)
sys.stdin.read()
rc = srv.stop()
print("rc", rc, "sanitizer", srv.sanitizer_report() is not None, flush=True)
`], { cwd: here, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, PYTHONPATH: here } });
const lines = [];
py.stdout.on('data', (d) => lines.push(...d.toString().split('\n').filter(Boolean)));
while (lines.length === 0) { await new Promise((r) => setTimeout(r, 100)); if (py.exitCode !== null) { console.log('not ok 1 - server start'); console.log('1..1'); process.exit(0); } }
const endpoint = lines.shift();
const url = new URL(endpoint);

const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true,
  credentials: { accessKeyId: 'cairnadmin', secretAccessKey: 'cairnadmin-secret-key' } });

await attempt('js sdk workflow', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'js-b' }));
  ok(true, 'js sdk: create bucket');
  const small = randomBytes(4096);
  const put = await s3.send(new PutObjectCommand({ Bucket: 'js-b', Key: 'a/small', Body: small, ContentType: 'application/x-test' }));
  ok(put.ETag === `"${md5(small)}"`, 'js sdk: put ETag', put.ETag);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'js-b', Key: 'a/small' }));
  ok(Buffer.compare(await bodyBytes(got.Body), small) === 0, 'js sdk: get byte-exact');
  ok(got.ContentType === 'application/x-test', 'js sdk: content-type');
  // A stream of unknown length: the SDK sends it with Transfer-Encoding:
  // chunked and no Content-Length.  (With default checksums the current SDK
  // refuses unknown-length streams on the client side and points to lib-storage.)
  const data = randomBytes(3 * 1024 * 1024 + 5);
  const s3stream = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: 'cairnadmin', secretAccessKey: 'cairnadmin-secret-key' } });
  await s3stream.send(new PutObjectCommand({ Bucket: 'js-b', Key: 'a/stream', Body: Readable.from([data.subarray(0, 1000), data.subarray(1000)]) }))
    .then(() => ok(true, 'js sdk: stream upload without Content-Length'),
          (e) => ok(false, 'js sdk: stream upload without Content-Length', e));
  const back = await s3.send(new GetObjectCommand({ Bucket: 'js-b', Key: 'a/stream' }));
  ok(md5(await bodyBytes(back.Body)) === md5(data), 'js sdk: stream upload byte-exact');
  const big = randomBytes(11 * 1024 * 1024);
  await new Upload({ client: s3, params: { Bucket: 'js-b', Key: 'a/multi', Body: Readable.from([big]) }, partSize: 5 * 1024 * 1024 }).done();
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'js-b', Key: 'a/multi' }));
  ok(head.ContentLength === big.length && /-3"$/.test(head.ETag), 'js sdk: lib-storage multipart', head.ETag);
  const part = await s3.send(new GetObjectCommand({ Bucket: 'js-b', Key: 'a/multi', PartNumber: 2 }));
  const mib5 = 5 * 1024 * 1024;
  ok(Buffer.compare(await bodyBytes(part.Body), big.subarray(mib5, 2 * mib5)) === 0 && part.PartsCount === 3,
     'js sdk: GetObject PartNumber=2 is the second part', `${part.PartsCount} ${part.ContentRange}`);
  const ranged = await s3.send(new GetObjectCommand({ Bucket: 'js-b', Key: 'a/multi', Range: 'bytes=100-199' }));
  ok(Buffer.compare(await bodyBytes(ranged.Body), big.subarray(100, 200)) === 0, 'js sdk: ranged get');
  await s3.send(new CopyObjectCommand({ Bucket: 'js-b', Key: 'b/copy', CopySource: 'js-b/a/small' }));
  const list = await s3.send(new ListObjectsV2Command({ Bucket: 'js-b', Delimiter: '/' }));
  ok((list.CommonPrefixes || []).map((p) => p.Prefix).join(',') === 'a/,b/', 'js sdk: list with delimiter');
  const del = await s3.send(new DeleteObjectsCommand({ Bucket: 'js-b', Delete: { Objects: ['a/small', 'a/stream', 'a/multi', 'b/copy'].map((Key) => ({ Key })) } }));
  ok((del.Deleted || []).length === 4, 'js sdk: delete objects');
  await s3.send(new DeleteBucketCommand({ Bucket: 'js-b' }));
  ok(true, 'js sdk: delete bucket');
});

await attempt('minio-js workflow', async () => {
  const mc = new Minio.Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false,
    accessKey: 'cairnadmin', secretKey: 'cairnadmin-secret-key', region: 'us-east-1', pathStyle: true });
  await mc.makeBucket('minio-b', 'us-east-1');
  ok(await mc.bucketExists('minio-b'), 'minio-js: bucket exists');
  const small = randomBytes(10000);
  await mc.putObject('minio-b', 'x/small', small, small.length, { 'Content-Type': 'text/x' });
  const st = await mc.statObject('minio-b', 'x/small');
  ok(st.size === small.length && st.etag === md5(small), 'minio-js: stat size and etag', JSON.stringify(st));
  ok(Buffer.compare(await bodyBytes(await mc.getObject('minio-b', 'x/small')), small) === 0, 'minio-js: get byte-exact');
  // Unknown size: minio-js lists uploads, then multipart.
  const big = randomBytes(12 * 1024 * 1024);
  await mc.putObject('minio-b', 'x/big', Readable.from([big]));
  ok(md5(await bodyBytes(await mc.getObject('minio-b', 'x/big'))) === md5(big), 'minio-js: stream put (multipart) byte-exact');
  ok(Buffer.compare(await bodyBytes(await mc.getPartialObject('minio-b', 'x/big', 10, 20)), big.subarray(10, 30)) === 0, 'minio-js: partial get');
  const names = [];
  for await (const o of mc.listObjectsV2('minio-b', 'x/', true)) names.push(o.name);
  ok(names.join(',') === 'x/big,x/small', 'minio-js: listObjectsV2', names.join(','));
  await mc.removeObjects('minio-b', ['x/big', 'x/small']);
  await mc.removeBucket('minio-b');
  ok(true, 'minio-js: remove objects and bucket');
});

py.stdin.end();
await new Promise((r) => py.on('exit', r));
const tail = lines.join(' ');
ok(/rc 0 sanitizer False/.test(tail), 'server exited cleanly with no sanitizer report', tail);
console.log(`1..${n}`);
