/**
 * A real SoftHSM2 token for the PKCS#11 tests: a private SOFTHSM2_CONF in a temp dir with its own
 * token directory (the package's /var/lib/softhsm is never touched), initialised with
 * `softhsm2-util --init-token`, and keys generated on it through graphene-pk11 (the same library the
 * signer uses, but a separate module handle: no tollgate code is involved in making the keys).
 */
import { execFile } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { existsSync } from "node:fs";
import { writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import * as graphene from "graphene-pk11";
import { tempDir } from "../helpers.ts";

const run = promisify(execFile);

export const SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so";
const SOFTHSM_UTIL = "/usr/bin/softhsm2-util";

/**
 * The skip reason when SoftHSM2 is not installed, or false. In CI (.ci/run installs softhsm2 from
 * .ci/apt-packages.txt) a missing module is a broken CI script: the tests run and fail.
 */
export function softhsmMissing(): string | false {
  if (existsSync(SOFTHSM_MODULE) && existsSync(SOFTHSM_UTIL)) return false;
  if (process.env.CI === "true" || process.env.CI === "1") return false;
  return `SKIPPED: SoftHSM2 is not installed (${SOFTHSM_MODULE}; apt-get install softhsm2, see .ci/apt-packages.txt)`;
}

export interface SoftHsmToken {
  label: string;
  pin: string;
  /** The SOFTHSM2_CONF file (also set in process.env, which the module reads at C_Initialize). */
  conf: string;
  dir: string;
  cleanup: () => Promise<void>;
}

/** Initialises a fresh token in a temp dir and points this process's SOFTHSM2_CONF at it. */
export async function initSoftHsmToken(label: string, pin: string, soPin = "5678"): Promise<SoftHsmToken> {
  if (!existsSync(SOFTHSM_MODULE) || !existsSync(SOFTHSM_UTIL)) {
    throw new Error(`SoftHSM2 is not installed (${SOFTHSM_MODULE}, ${SOFTHSM_UTIL}); .ci/run installs it from .ci/apt-packages.txt`);
  }
  const { dir, cleanup } = await tempDir("tollgate-softhsm-");
  const tokens = join(dir, "tokens");
  await mkdir(tokens);
  const conf = join(dir, "softhsm2.conf");
  await writeFile(conf, `directories.tokendir = ${tokens}/\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  await run(SOFTHSM_UTIL, ["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", soPin], {
    env: { ...process.env, SOFTHSM2_CONF: conf },
  });
  process.env.SOFTHSM2_CONF = conf;
  return { label, pin, conf, dir, cleanup };
}

export type TestKeySpec =
  | { kind: "ec"; curve: "secp256r1" | "secp384r1"; label: string; id: string; withPublicKey?: boolean }
  | { kind: "rsa"; bits: number; label: string; id: string };

/**
 * Generates key pairs on the token (token objects, private keys sensitive and not extractable) and
 * returns each public key's SPKI PEM as the token itself holds it (from CKA_EC_POINT or the modulus).
 * Call it before any signer opens the module: it initializes and finalizes the module itself.
 */
export function generateTestKeys(token: SoftHsmToken, specs: readonly TestKeySpec[]): Map<string, string> {
  const mod = graphene.Module.load(SOFTHSM_MODULE, "SoftHSM");
  mod.initialize();
  const pems = new Map<string, string>();
  try {
    const slot = findSlot(mod, token.label);
    const session = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
    session.login(token.pin, graphene.UserType.USER);
    try {
      for (const spec of specs) {
        const id = Buffer.from(spec.id, "hex");
        const privateTemplate = { token: true, sign: true, private: true, sensitive: true, extractable: false, label: spec.label, id };
        if (spec.kind === "ec") {
          const pair = session.generateKeyPair(
            graphene.KeyGenMechanism.EC,
            { keyType: graphene.KeyType.EC, token: true, verify: true, label: spec.label, id, paramsEC: graphene.NamedCurve.getByName(spec.curve).value },
            { keyType: graphene.KeyType.EC, ...privateTemplate },
          );
          const point = pair.publicKey.getAttribute({ pointEC: null }).pointEC!;
          const raw = point.subarray(point[1] === 0x81 ? 3 : 2);
          const n = (raw.length - 1) / 2;
          const crv = spec.curve === "secp256r1" ? "P-256" : "P-384";
          const pem = createPublicKey({ key: { kty: "EC", crv, x: raw.subarray(1, 1 + n).toString("base64url"), y: raw.subarray(1 + n).toString("base64url") }, format: "jwk" });
          pems.set(spec.label, pem.export({ type: "spki", format: "pem" }).toString());
          if (spec.withPublicKey === false) session.destroy(pair.publicKey);
        } else {
          const pair = session.generateKeyPair(
            graphene.KeyGenMechanism.RSA,
            { keyType: graphene.KeyType.RSA, token: true, verify: true, label: spec.label, id, modulusBits: spec.bits, publicExponent: Buffer.from([1, 0, 1]) },
            { keyType: graphene.KeyType.RSA, ...privateTemplate },
          );
          const { modulus, publicExponent } = pair.publicKey.getAttribute({ modulus: null, publicExponent: null });
          const pem = createPublicKey({ key: { kty: "RSA", n: modulus!.toString("base64url"), e: publicExponent!.toString("base64url") }, format: "jwk" });
          pems.set(spec.label, pem.export({ type: "spki", format: "pem" }).toString());
        }
      }
    } finally {
      session.logout();
      session.close();
    }
  } finally {
    mod.finalize();
  }
  return pems;
}

/** Changes CKA_ID of the public key that has `fromId` to `toId` (to pair a private key with another key's public half). */
export function relabelPublicKeyId(token: SoftHsmToken, fromId: string, toId: string): void {
  const mod = graphene.Module.load(SOFTHSM_MODULE, "SoftHSM");
  mod.initialize();
  try {
    const session = findSlot(mod, token.label).open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
    session.login(token.pin, graphene.UserType.USER);
    try {
      const found = session.find({ class: graphene.ObjectClass.PUBLIC_KEY, id: Buffer.from(fromId, "hex") });
      if (found.length !== 1) throw new Error(`expected one public key with id ${fromId}, found ${found.length}`);
      found.items(0).setAttribute({ id: Buffer.from(toId, "hex") });
    } finally {
      session.logout();
      session.close();
    }
  } finally {
    mod.finalize();
  }
}

function findSlot(mod: graphene.Module, label: string): graphene.Slot {
  const slots = mod.getSlots(true);
  for (let i = 0; i < slots.length; i++) {
    const slot = slots.items(i);
    if (slot.getToken().label === label) return slot;
  }
  throw new Error(`no SoftHSM2 token labelled ${label}`);
}
