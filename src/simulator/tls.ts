// The simulator's TLS material: a private root CA (what clients trust via `ca`) and a
// server certificate it signed for localhost / 127.0.0.1 / ::1. Two tiers rather than one
// self-signed leaf because strict verifiers (Python 3.13's VERIFY_X509_STRICT behind `az`,
// rustls) refuse a CA certificate used as the server's own certificate.
import { createPrivateKey, generateKeyPair, randomBytes, sign as cryptoSign, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';

export interface TlsMaterial {
  /** PEM of the root CA certificate clients must trust. */
  ca: string;
  /** PEM of the server certificate (signed by `ca`). */
  cert: string;
  /** PEM (PKCS#8) of the server certificate's private key. */
  key: string;
}

export interface GenerateTlsOptions {
  /** Validity in days from now (default 365). Negative values produce already-expired material (tests). */
  validityDays?: number;
  now?: Date;
}

const CA_FILE = 'ca.pem';
const CERT_FILE = 'server.pem';
const KEY_FILE = 'server-key.pem';
const LOCK_FILE = '.lock';
/** Regenerate when less than this is left, so a cached certificate never expires mid-run. */
const MIN_REMAINING_MS = 24 * 3600 * 1000;
const LOCK_STALE_MS = 30_000;

const generateKeyPairAsync = promisify(generateKeyPair);

interface RsaKeys {
  pem: string;
  publicKey: forge.pki.rsa.PublicKey;
}

async function rsaKeyPair(): Promise<RsaKeys> {
  // Node's native RSA generation runs on the libuv pool (both keys in parallel); forge's
  // pure-JS generation would take seconds.
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { pem: privateKey, publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey };
}

/** forge builds the certificate; Node signs it (forge's JS RSA signing costs ~100 ms each). */
function signWithNode(cert: forge.pki.Certificate, signerKeyPem: string): void {
  const c = cert as forge.pki.Certificate & { tbsCertificate: forge.asn1.Asn1; signatureOid: string; md: forge.md.MessageDigest };
  c.md = forge.md.sha256.create();
  c.signatureOid = c.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  // getTBSCertificate is public in forge but missing from @types/node-forge.
  c.tbsCertificate = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  const tbs = Buffer.from(forge.asn1.toDer(c.tbsCertificate).getBytes(), 'binary');
  c.signature = cryptoSign('sha256', tbs, signerKeyPem).toString('binary');
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive INTEGER
  return bytes.toString('hex');
}

function subject(commonName: string): forge.pki.CertificateField[] {
  return [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'cmk-chatops local Azure simulator' },
  ];
}

/** Generates a fresh CA and server certificate in memory (a few hundred ms on 2 cores). */
export async function generateTlsMaterial(opts: GenerateTlsOptions = {}): Promise<TlsMaterial> {
  const now = opts.now ?? new Date();
  const validityDays = opts.validityDays ?? 365;
  const notBefore = new Date(now.getTime() - 3600 * 1000); // tolerate small clock skew
  const notAfter = new Date(now.getTime() + validityDays * 24 * 3600 * 1000);
  if (notAfter <= notBefore) notBefore.setTime(notAfter.getTime() - 3600 * 1000);

  const [caKeys, serverKeys] = await Promise.all([rsaKeyPair(), rsaKeyPair()]);
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = caKeys.publicKey;
  caCert.serialNumber = serialNumber();
  caCert.validity.notBefore = notBefore;
  caCert.validity.notAfter = notAfter;
  caCert.setSubject(subject('cmk-chatops simulator CA'));
  caCert.setIssuer(subject('cmk-chatops simulator CA'));
  caCert.setExtensions([{ name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }, { name: 'subjectKeyIdentifier' }]);
  signWithNode(caCert, caKeys.pem);

  const cert = forge.pki.createCertificate();
  cert.publicKey = serverKeys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject(subject('localhost'));
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  signWithNode(cert, caKeys.pem);

  return {
    ca: forge.pki.certificateToPem(caCert),
    cert: forge.pki.certificateToPem(cert),
    key: serverKeys.pem,
  };
}

/** True when the material is parseable, consistent (key ↔ cert, cert ← CA) and not close to expiry. */
export function isUsable(material: TlsMaterial, now: Date = new Date()): boolean {
  try {
    const ca = new X509Certificate(material.ca);
    const cert = new X509Certificate(material.cert);
    const minEnd = now.getTime() + MIN_REMAINING_MS;
    for (const c of [ca, cert]) {
      if (new Date(c.validFrom).getTime() > now.getTime() + 60_000) return false;
      if (new Date(c.validTo).getTime() < minEnd) return false;
    }
    return cert.checkIssued(ca) && cert.verify(ca.publicKey) && cert.checkPrivateKey(createPrivateKey(material.key));
  } catch {
    return false;
  }
}

async function readMaterial(dir: string): Promise<TlsMaterial | undefined> {
  try {
    const [ca, cert, key] = await Promise.all([CA_FILE, CERT_FILE, KEY_FILE].map((f) => fs.readFile(path.join(dir, f), 'utf8')));
    return { ca: ca!, cert: cert!, key: key! };
  } catch {
    return undefined;
  }
}

async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, content, { mode });
  await fs.rename(tmp, file);
}

async function acquireLock(lockPath: string): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const handle = await fs.open(lockPath, 'wx');
      await handle.close();
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const stat = await fs.stat(lockPath).catch(() => undefined);
      if (stat && Date.now() - stat.mtimeMs > LOCK_STALE_MS) {
        await fs.rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export interface CachedTls extends TlsMaterial {
  caPath: string;
  /** True when this call generated new material, false when it reused the cache. */
  generated: boolean;
}

/**
 * Loads the CA + server certificate from `dir`, or generates and stores them when they are
 * missing, unreadable, inconsistent or (nearly) expired. A lock file keeps two processes
 * starting at once (jest workers) from writing a mixed set.
 */
export async function loadOrCreateTls(dir: string, now: Date = new Date()): Promise<CachedTls> {
  const caPath = path.join(dir, CA_FILE);
  const cached = await readMaterial(dir);
  if (cached && isUsable(cached, now)) return { ...cached, caPath, generated: false };

  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const lockPath = path.join(dir, LOCK_FILE);
  const locked = await acquireLock(lockPath);
  try {
    // Another process may have written a good set while we waited for the lock.
    const again = await readMaterial(dir);
    if (again && isUsable(again, now)) return { ...again, caPath, generated: false };
    const fresh = await generateTlsMaterial({ now });
    // Without the lock (a holder stuck for 10 s) we still write: a usable server beats none.
    await writeAtomic(path.join(dir, KEY_FILE), fresh.key, 0o600);
    await writeAtomic(path.join(dir, CERT_FILE), fresh.cert, 0o644);
    await writeAtomic(caPath, fresh.ca, 0o644);
    return { ...fresh, caPath, generated: true };
  } finally {
    if (locked) await fs.rm(lockPath, { force: true });
  }
}
