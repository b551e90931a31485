import { lstat } from "node:fs/promises";
import { examples, type CliApp } from "../../cli/registry.ts";
import { UsageError } from "../../errors.ts";
import { writeFileAtomic } from "../../io/atomic-write.ts";

// The key code (and, through index.ts, every backend) is loaded when a `keys` command runs, never
// at start-up or for --help.
const loadKeyCode = () => Promise.all([import("./file.ts"), import("./index.ts"), import("./password.ts"), import("../../io/timeouts.ts")]);

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}

/** `tollgate keys`: generate keys and print the public key of any key reference. */
export function registerKeyCommands(app: CliApp): void {
  const keys = app.program.command("keys").description("Create and inspect signing keys.").summary("signing keys (files, PKCS#11 HSMs, Vault Transit, KMS)");

  keys
    .command("generate")
    .summary("generate a cosign key pair (PREFIX.key encrypted, PREFIX.pub)")
    .description(
      "generate a cosign key pair: PREFIX.key (ECDSA P-256, encrypted as cosign encrypts it, mode 0600) and PREFIX.pub (PEM public key). " +
        "The password comes from TOLLGATE_PASSWORD, else COSIGN_PASSWORD, else a prompt on a terminal.",
    )
    .option("--output-key-prefix <prefix>", "write PREFIX.key and PREFIX.pub (cosign's name for --output-prefix)")
    .option("--output-prefix <prefix>", "write PREFIX.key and PREFIX.pub (default: cosign)")
    .option("--force", "replace existing PREFIX.key and PREFIX.pub")
    .addHelpText("after", examples("tollgate keys generate --output-key-prefix release   # password from TOLLGATE_PASSWORD or COSIGN_PASSWORD", "tollgate keys generate   # asks for the password on a terminal"))
    .action(
      app.action(async (_args: [], options, ctx) => {
        const a = options["outputKeyPrefix"] as string | undefined;
        const b = options["outputPrefix"] as string | undefined;
        if (a !== undefined && b !== undefined && a !== b) throw new UsageError("--output-key-prefix and --output-prefix name different prefixes; give one");
        const prefix = a ?? b ?? "cosign";
        if (prefix === "") throw new UsageError("--output-key-prefix: empty prefix");
        const keyPath = `${prefix}.key`;
        const pubPath = `${prefix}.pub`;
        if (options["force"] !== true) {
          for (const path of [keyPath, pubPath]) {
            if (await exists(path)) throw new UsageError(`${path} exists; not replaced (give --force to replace it)`);
          }
        }
        const [{ generateCosignKeyPair }, , { readPassword, terminalPasswordPrompt }] = await loadKeyCode();
        const password = await readPassword(keyPath, { env: process.env, promptPassword: terminalPasswordPrompt() }, true);
        const pair = await generateCosignKeyPair(password);
        await writeFileAtomic(keyPath, pair.privateKeyPem, { mode: 0o600 });
        await writeFileAtomic(pubPath, pair.publicKeyPem, { mode: 0o644 });
        ctx.notice(`private key written to ${keyPath}`);
        ctx.notice(`public key written to ${pubPath} (key id ${pair.keyId})`);
      }),
    );

  keys
    .command("public")
    .summary("print the public key of any key reference")
    .description("print the PEM public key of a key reference: a key file, pkcs11:…, hashivault://…, awskms://…, gcpkms://…")
    .argument("<keyref>", "the key reference")
    .addHelpText("after", examples("tollgate keys public cosign.key", "tollgate keys public cosign.key --format json"))
    .action(
      app.action(async ([ref]: [string], _options, ctx) => {
        const format = ctx.formatOf(["text", "json"] as const, "text");
        const loaded = await ctx.config();
        const [, { openSigner }, { terminalPasswordPrompt }, { networkTimeoutsFromConfig }] = await loadKeyCode();
        const signer = await openSigner(ref, {
          env: process.env,
          promptPassword: terminalPasswordPrompt(),
          config: loaded.config.signing as Record<string, unknown>,
          timeouts: networkTimeoutsFromConfig(loaded.config.timeouts),
        });
        try {
          const publicKey = await signer.publicKeyPem();
          if (format === "json") {
            const keyId = await signer.keyId();
            await ctx.writeOutput(`${JSON.stringify({ keyId, backend: signer.backend, algorithm: signer.algorithm, publicKey }, null, 2)}\n`);
          } else {
            await ctx.writeOutput(publicKey);
          }
        } finally {
          await signer.close();
        }
      }),
    );
}
