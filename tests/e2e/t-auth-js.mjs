#!/usr/bin/env node
// Helper of t-auth-modes.py (run alone it only skips): minio-js and
// @aws-sdk/client-s3 uploads over plain HTTP through the caller's logging
// proxies.  Usage: t-auth-js.mjs MINIO_ENDPOINT SDK_ENDPOINT BUCKET
// Prints one JSON object per line: {"name", "ok", "diag"} for the caller to
// turn into TAP, so the caller can also inspect what went over the wire.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

if (process.argv.length < 5) {
  console.log('1..0 # SKIP helper of t-auth-modes.py');
  process.exit(0);
}
const [minioEndpoint, sdkEndpoint, bucket] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'clients', 'package.json'));
const { S3Client, PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3');
const Minio = require('minio');

const report = (name, ok, diag) => console.log(JSON.stringify({ name, ok: !!ok, diag: diag === undefined ? null : String(diag) }));
const md5 = (b) => createHash('md5').update(b).digest('hex');
const crc32b64 = (b) => { const v = zlib.crc32(b); const o = Buffer.alloc(4); o.writeUInt32BE(v >>> 0); return o.toString('base64'); };
async function bodyBytes(stream) { const parts = []; for await (const c of stream) parts.push(c); return Buffer.concat(parts); }
async function attempt(name, fn) { try { await fn(); } catch (e) { report(name, false, e.stack || e); } }
const creds = { accessKeyId: 'cairnadmin', secretAccessKey: 'cairnadmin-secret-key' };

await attempt('minio-js signed payload', async () => {
  const u = new URL(minioEndpoint);
  const mc = new Minio.Client({ endPoint: u.hostname, port: Number(u.port), useSSL: false,
    accessKey: creds.accessKeyId, secretKey: creds.secretAccessKey, region: 'us-east-1', pathStyle: true });
  const data = randomBytes(200000);
  await mc.putObject(bucket, 'minio/obj', data, data.length);
  const back = await bodyBytes(await mc.getObject(bucket, 'minio/obj'));
  report('minio-js: put/get byte-exact over HTTP', Buffer.compare(back, data) === 0, `${back.length} bytes`);
  const st = await mc.statObject(bucket, 'minio/obj');
  report('minio-js: ETag is the MD5', st.etag === md5(data), st.etag);
});

const sdk = new S3Client({ endpoint: sdkEndpoint, region: 'us-east-1', forcePathStyle: true, credentials: creds });

await attempt('js sdk Buffer put', async () => {
  const data = randomBytes(100000);
  await sdk.send(new PutObjectCommand({ Bucket: bucket, Key: 'sdk/buffer', Body: data }));
  const got = await sdk.send(new GetObjectCommand({ Bucket: bucket, Key: 'sdk/buffer', ChecksumMode: 'ENABLED' }));
  report('js sdk: Buffer PutObject byte-exact', Buffer.compare(await bodyBytes(got.Body), data) === 0);
  report('js sdk: Buffer PutObject checksum stored', got.ChecksumCRC32 === crc32b64(data), `${got.ChecksumCRC32} vs ${crc32b64(data)}`);
});

// A stream with a known length: the SDK's flexible-checksum middleware wraps
// it in aws-chunked with the CRC32 as a trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
await attempt('js sdk stream put', async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  await sdk.send(new PutObjectCommand({ Bucket: bucket, Key: 'sdk/stream', ContentLength: data.length,
    Body: Readable.from([data.subarray(0, 65536), data.subarray(65536)]) }));
  const got = await sdk.send(new GetObjectCommand({ Bucket: bucket, Key: 'sdk/stream', ChecksumMode: 'ENABLED' }));
  const back = await bodyBytes(got.Body);
  report('js sdk: stream PutObject byte-exact', Buffer.compare(back, data) === 0, `${back.length} bytes of ${data.length}`);
  report('js sdk: stream PutObject trailer checksum stored and returned', got.ChecksumCRC32 === crc32b64(data),
         `${got.ChecksumCRC32} vs ${crc32b64(data)}`);
});
console.log(JSON.stringify({ done: true }));
