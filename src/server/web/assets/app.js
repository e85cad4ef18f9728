// sanctions-ledger web view: enhancements only. Every page works without this script; with
// it, the question forms ask as soon as a picker changes, and an event page checks the
// record's inclusion proof against the signed checkpoint in the browser (WebCrypto).
"use strict";

// Forms: a changed date picker or select asks at once (the button stays for keyboards).
document.querySelectorAll("form.question").forEach((form) => {
  form.querySelectorAll("input[type=date], select").forEach((field) => {
    field.addEventListener("change", () => {
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.submit();
    });
  });
  // Empty fields are left out of the URL, so that it carries only the question.
  form.addEventListener("submit", () => {
    form.querySelectorAll("input, select").forEach((field) => {
      if (field.name && field.value === "") field.disabled = true;
    });
  });
});

// ---- The proof check -------------------------------------------------------------------

const encoder = new TextEncoder();

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromBase64(text) {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new Error("not padded base64: " + text.slice(0, 40));
  }
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function fromHex(text) {
  if (!/^([0-9a-f]{2})*$/.test(text)) throw new Error("not lowercase hex: " + text.slice(0, 40));
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function equal(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

// RFC 6962 hashes.
const leafHash = (entry) => sha256(concat(Uint8Array.of(0), entry));
const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

// RFC 9162, 2.1.3.2: the root an inclusion path leads to, or an error.
async function rootFromInclusion(index, size, leaf, path) {
  if (index >= size) throw new Error(`leaf ${index} is not in a tree of ${size}`);
  let fn = index;
  let sn = size - 1n;
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) throw new Error("the path is longer than the tree is deep");
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new Error("the path is shorter than the tree is deep");
  return r;
}

// A C2SP signed note: its body (the signed bytes) and its signature lines.
function parseNote(text) {
  const split = text.indexOf("\n\n");
  if (split < 0 || !text.endsWith("\n")) throw new Error("not a signed note (no blank line before the signatures)");
  const body = text.slice(0, split + 1);
  const signatures = text
    .slice(split + 2)
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const match = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!match) throw new Error("a signature line is malformed: " + line.slice(0, 60));
      return { name: match[1], bytes: fromBase64(match[2]) };
    });
  const lines = body.split("\n");
  if (lines.length < 4) throw new Error("a checkpoint body has at least an origin, a size and a root");
  if (!/^[1-9][0-9]*$|^0$/.test(lines[1])) throw new Error("the size line is not a number: " + lines[1]);
  const root = fromBase64(lines[2]);
  if (root.length !== 32) throw new Error("the root line is not 32 bytes of base64");
  return { body, origin: lines[0], size: BigInt(lines[1]), root, signatures };
}

// A C2SP public key: name+hex key id+base64(0x01 || Ed25519 key), its id checked.
async function parseKey(text) {
  // The name has no "+"; the base64 after the key id may.
  const match = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(text.trim());
  if (!match) throw new Error("a public key is <name>+<8 hex digits of key id>+<base64>");
  const [, name, idHex, keyBase64] = match;
  const id = fromHex(idHex);
  const key = fromBase64(keyBase64);
  if (id.length !== 4 || key.length !== 33 || key[0] !== 1) {
    throw new Error("not an Ed25519 key of the C2SP form (algorithm byte 0x01, 32 key bytes)");
  }
  const expected = (await sha256(concat(encoder.encode(name + "\n"), key))).slice(0, 4);
  if (!equal(id, expected)) throw new Error("the key id does not match the key's name and bytes");
  return { name, id, raw: key.slice(1) };
}

async function verifySignature(note, key) {
  const line = note.signatures.find(
    (s) => s.name === key.name && s.bytes.length === 68 && equal(s.bytes.slice(0, 4), key.id),
  );
  if (!line) throw new Error(`no signature by ${key.name}+${hex(key.id)} on the checkpoint`);
  const publicKey = await crypto.subtle.importKey("raw", key.raw, { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, publicKey, line.bytes.slice(4), encoder.encode(note.body));
}

async function checkProof(box, keyText, say) {
  const sequence = BigInt(box.dataset.sequence);
  const response = await fetch(`/v1/proofs/inclusion/${sequence}?checkpoint=${box.dataset.checkpoint}`, {
    headers: { accept: "application/json" },
    cache: "no-store",
  });
  if (!response.ok) throw new Error(`the server answered ${response.status} for the proof`);
  const proof = await response.json();
  if (proof.proof !== "inclusion" || BigInt(proof.sequence) !== sequence) {
    throw new Error("the server sent a proof of something else");
  }
  say(true, `fetched the inclusion proof of record ${sequence} against checkpoint ${box.dataset.checkpoint}`);
  if (proof.record_hash !== box.dataset.recordHash) {
    throw new Error(`the proof's record hash ${proof.record_hash} is not the one this page shows (${box.dataset.recordHash})`);
  }
  say(true, "its record hash (BLAKE3) is the one this page shows (compared, not recomputed)");
  const note = parseNote(proof.checkpoint);
  if (note.origin !== box.dataset.origin) throw new Error(`the checkpoint is of another log: ${note.origin}`);
  const record = fromBase64(proof.record);
  const leaf = await leafHash(record);
  say(true, `hashed the record's ${record.length} stored bytes: leaf ${hex(leaf)} (SHA-256 of 0x00 and the bytes)`);
  const path = proof.path.map(fromHex);
  if (path.some((node) => node.length !== 32)) throw new Error("a path node is not 32 bytes");
  const root = await rootFromInclusion(sequence - 1n, note.size, leaf, path);
  if (!equal(root, note.root)) {
    throw new Error(`the ${path.length}-step audit path leads to root ${hex(root)}, not the checkpoint's ${hex(note.root)}: the record is not proven to be in the log`);
  }
  say(true, `followed the ${path.length}-step audit path to root ${hex(root)}: the root of checkpoint ${box.dataset.checkpoint} (size ${note.size})`);
  if (keyText.trim() === "") {
    say(false, "no key given: the checkpoint's signature was not checked");
    return { verified: false, message: "Not verified: the tree checks out, but without the operator's key the checkpoint's signature was not checked. Paste the key you hold and check again." };
  }
  const key = await parseKey(keyText);
  if (!(await verifySignature(note, key))) {
    throw new Error(`the checkpoint's signature by ${key.name}+${hex(key.id)} does not verify`);
  }
  say(true, `the checkpoint's Ed25519 signature verifies with the key ${key.name}+${hex(key.id)}`);
  return {
    verified: true,
    message: `Verified: record ${sequence} is leaf ${sequence - 1n} of the log's tree at size ${note.size}, which the key ${key.name}+${hex(key.id)} signed. Checked in this browser with WebCrypto.`,
  };
}

async function runProof(box) {
  const result = document.getElementById("proof-result");
  const steps = document.getElementById("proof-steps");
  const keyField = document.getElementById("proof-key");
  steps.replaceChildren();
  const say = (passed, text) => {
    const item = document.createElement("li");
    item.className = passed ? "passed" : "failed";
    item.textContent = (passed ? "passed: " : "not done: ") + text;
    steps.append(item);
  };
  result.dataset.state = "checking";
  result.textContent = "Checking…";
  if (!window.crypto || !crypto.subtle) {
    result.dataset.state = "failed";
    result.textContent = "Cannot check here: this browser offers no WebCrypto on this page (a page over plain HTTP on another machine's address is not a secure context). Open it over HTTPS or on localhost, or check offline with sanctions-ledger verify-proof.";
    return;
  }
  try {
    const outcome = await checkProof(box, keyField ? keyField.value : "", say);
    result.dataset.state = outcome.verified ? "verified" : "unverified";
    result.textContent = outcome.message;
  } catch (error) {
    const item = document.createElement("li");
    item.className = "failed";
    item.textContent = "FAILED: " + error.message;
    steps.append(item);
    result.dataset.state = "failed";
    result.textContent = "Proof check FAILED: " + error.message;
  }
}

const proofBox = document.getElementById("proof");
if (proofBox) {
  const form = document.getElementById("proof-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    runProof(proofBox);
  });
  runProof(proofBox);
}
