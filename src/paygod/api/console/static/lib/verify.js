// In-browser verification of a ledger entry: its record hash, its RFC 9162 inclusion
// proof and the Ed25519 signed tree head, with WebCrypto only. A mirror of
// src/paygod/ledger/verifier.py (the one statement of these rules); the agreement is
// held by tests/e2e/console (the browser verifies what the server's proofs say).

const enc = new TextEncoder();
const HEX = /^[0-9a-f]{64}$/;

// RFC 8785: JSON.stringify already writes strings and numbers as JCS does (ES6 number
// form); objects need their members sorted by UTF-16 code units, which is what the
// default Array.prototype.sort compares.
export function canonicalize(value) {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new Error("non-finite number");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalize).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalize(value[k])}`).join(",")}}`;
}

export const toHex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
export function fromHex(text, name) {
  if (typeof text !== "string" || !HEX.test(text)) throw new Error(`${name} must be 64 lowercase hex characters`);
  return Uint8Array.from(text.match(/../g), (b) => parseInt(b, 16));
}
const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

export async function sha256(...parts) {
  const size = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
}

// RFC 9162 §2.1.1: leaf = SHA-256(0x00 || d), node = SHA-256(0x01 || left || right).
export const leafHash = (bytes) => sha256(Uint8Array.of(0), bytes);
export const nodeHash = (left, right) => sha256(Uint8Array.of(1), left, right);

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// RFC 9162 §2.1.3.2, step by step as verifier.verify_inclusion_raw. Returns null when the
// proof holds, else the reason it fails. Sizes are JS numbers: exact below 2^53.
export async function verifyInclusion(leafIndex, treeSize, leaf, path, root) {
  if (!(Number.isSafeInteger(leafIndex) && Number.isSafeInteger(treeSize)) || leafIndex < 0) return "leaf_index and tree_size must be non-negative integers";
  if (leafIndex >= treeSize) return `leaf_index ${leafIndex} is not below tree_size ${treeSize}`;
  let fn = BigInt(leafIndex);
  let sn = BigInt(treeSize - 1);
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) return "audit_path is too long for this leaf_index and tree_size";
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) return "audit_path is too short for this leaf_index and tree_size";
  if (!same(r, root)) return "computed root does not match root_hash";
  return null;
}

// The interchange line's hashes, assembled as verifier.line_hashes does.
export async function lineHashes(line) {
  const record = toHex(await sha256(enc.encode(canonicalize({
    data: line.data, previous_hash: line.previous_hash, timestamp: line.timestamp,
  }))));
  const leaf = await leafHash(enc.encode(canonicalize({
    data: line.data, entry_index: line.entry_index, previous_hash: line.previous_hash,
    record_hash: line.record_hash, timestamp: line.timestamp,
  })));
  return { record, leaf };
}

// Ed25519 over the RFC 8785 form of {tree_size, root_hash, timestamp, key_id}
// (verifier.check_tree_head); key_id = first 16 hex of SHA-256 of the raw public key.
export async function verifyTreeHead(head, rawKeyBase64) {
  const raw = fromBase64(rawKeyBase64);
  if (raw.length !== 32) return "the public key is not a 32-byte Ed25519 key";
  const keyId = toHex(await sha256(raw)).slice(0, 16);
  if (head.key_id !== keyId) return `tree head key_id ${head.key_id} is not the given key (${keyId})`;
  const signature = fromBase64(head.signature);
  if (signature.length !== 64) return `signature must be 64 bytes (Ed25519), not ${signature.length}`;
  const signed = enc.encode(canonicalize({
    tree_size: head.tree_size, root_hash: head.root_hash, timestamp: head.timestamp, key_id: head.key_id,
  }));
  const key = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
  const ok = await crypto.subtle.verify({ name: "Ed25519" }, key, signature, signed);
  return ok ? null : "tree head signature is invalid";
}

// The whole check, as a list of steps {label, ok, detail}; stops at the first failure.
export async function verifyEntry({ line, proof, head, publicKey, pinnedKeyId }) {
  const steps = [];
  const step = (label, problem, detail = "") => { steps.push({ label, ok: problem === null, detail: problem ?? detail }); return problem === null; };
  try {
    const { record, leaf } = await lineHashes(line);
    if (!step("record_hash recomputed from data, previous_hash and timestamp",
      record === line.record_hash ? null : `expected ${record}, entry says ${line.record_hash}`, record)) return steps;
    if (!step("Merkle leaf hash of the entry line (SHA-256 of 0x00 ‖ RFC 8785 line)",
      toHex(leaf) === proof.leaf_hash ? null : `computed ${toHex(leaf)}, proof says ${proof.leaf_hash}`, toHex(leaf))) return steps;
    if (!step(`proof is about entry ${line.entry_index}`,
      proof.leaf_index === line.entry_index ? null : `proof leaf_index ${proof.leaf_index}`)) return steps;
    const path = proof.audit_path.map((p, i) => fromHex(p, `audit_path[${i}]`));
    if (!step(`inclusion in the tree of ${proof.tree_size} entries (RFC 9162 §2.1.3.2, ${path.length} hashes)`,
      await verifyInclusion(proof.leaf_index, proof.tree_size, leaf, path, fromHex(proof.root_hash, "root_hash")), proof.root_hash)) return steps;
    if (!step("public key matches the pinned key id",
      pinnedKeyId && pinnedKeyId !== publicKey.key_id ? `server key ${publicKey.key_id}, pinned ${pinnedKeyId}` : null,
      pinnedKeyId ? `pinned ${pinnedKeyId}` : "no key pinned: the key came from this server")) return steps;
    if (!step("Ed25519 signature of the tree head (WebCrypto)", await verifyTreeHead(head, publicKey.public_key_raw), `key ${head.key_id}`)) return steps;
    step("the signed head covers this proof's tree",
      head.tree_size === proof.tree_size && head.root_hash === proof.root_hash
        ? null : `head ${head.tree_size}/${head.root_hash.slice(0, 12)}…, proof ${proof.tree_size}/${proof.root_hash.slice(0, 12)}…`,
      `size ${head.tree_size}, root ${head.root_hash.slice(0, 16)}…`);
  } catch (err) {
    step("verification could not run", String(err.message || err));
  }
  return steps;
}
