// One positive and one negative case per rule. The snippets are written by hand for these tests;
// each `bad` must raise the rule (at the stated line when given) and each `good` must not.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LINT_RULES, lintDockerfileText, reachesThreshold, type LintTextOptions } from "../../src/lint/index.ts";

interface Case {
  bad: string;
  good: string;
  /** 1-based line the finding must be on. */
  line?: number;
  options?: LintTextOptions;
  trusted?: string[];
}

const D = "FROM debian:12@sha256:0000000000000000000000000000000000000000000000000000000000000000";

const CASES: Record<string, Case> = {
  "TG-DF-001": { bad: "FROM alpine:3.20\nRUN true\n", good: "FROM alpine:3.20\nUSER 10001\n", line: 1 },
  "TG-DF-002": { bad: "FROM node:22-slim\nUSER 1000\n", good: `${D}\nUSER 1000\n`, line: 1 },
  "TG-DF-003": { bad: "FROM node\nUSER 1000\n", good: "FROM node:22\nUSER 1000\n", line: 1 },
  "TG-DF-004": { bad: `${D}\nADD https://example.com/tool.tar.gz /opt/\n`, good: `${D}\nADD --checksum=sha256:abcd https://example.com/tool.tar.gz /opt/\n`, line: 2 },
  "TG-DF-005": { bad: `${D}\nADD app.jar /app/app.jar\n`, good: `${D}\nADD rootfs.tar.xz /\n`, line: 2 },
  "TG-DF-006": { bad: `${D}\nRUN curl -fsSL https://get.example.com | sudo bash -s --\n`, good: `${D}\nRUN curl -fsSLo /tmp/i.sh https://get.example.com && sha256sum -c sums && sh /tmp/i.sh\n`, line: 2 },
  "TG-DF-007": { bad: `${D}\nARG NPM_TOKEN\n`, good: `${D}\nARG NODE_VERSION=22\nENV GPG_KEY=ABCD PUBLIC_KEY=x TOKENIZERS_PARALLELISM=false KEYCLOAK_URL=https://k SSL_KEY_FILE=/run/secrets/k\n`, line: 2 },
  "TG-DF-008": { bad: `${D}\nENV CONFIG_URL=https://deploy:hunter22@example.com/cfg\n`, good: `${D}\nENV CONFIG_URL=https://example.com/cfg\n`, line: 2 },
  "TG-DF-009": {
    bad: `${D}\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n`,
    good: `${D}\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n`,
    line: 2,
  },
  "TG-DF-010": {
    bad: `${D}\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nUSER 1\n`,
    good: `${D}\nRUN --mount=type=cache,target=/var/lib/apt apt-get update && apt-get install -y --no-install-recommends curl\n`,
    line: 2,
  },
  "TG-DF-011": { bad: `${D}\nRUN apt-get install curl\n`, good: `${D}\nRUN apt-get -qy install curl\n`, line: 2 },
  "TG-DF-012": { bad: `${D}\nRUN apk add --no-cache curl\n`, good: `${D}\nRUN apk add --no-cache curl=8.9.1-r0\n`, line: 2 },
  "TG-DF-013": { bad: `${D}\nRUN apt-get update\nRUN apt-get install -y x\n`, good: `${D}\nRUN apt-get update && apt-get install -y x\n`, line: 2 },
  "TG-DF-014": { bad: `${D}\nRUN apt-get update && apt-get -y full-upgrade\n`, good: `${D}\nRUN apt-get update && apt-get -y install x\n`, line: 2 },
  "TG-DF-015": { bad: `${D}\nRUN apt install -y curl\n`, good: `${D}\nRUN apt-get install -y curl\n`, line: 2 },
  "TG-DF-016": { bad: `${D}\nRUN apk add curl\n`, good: `${D}\nRUN apk add --no-cache curl\n`, line: 2 },
  "TG-DF-017": { bad: `${D}\nRUN yum install -y httpd\n`, good: `${D}\nRUN yum install -y httpd && yum clean all\n`, line: 2 },
  "TG-DF-018": { bad: `${D}\nRUN microdnf install -y httpd\n`, good: `${D}\nRUN microdnf install -y httpd && microdnf clean all\n`, line: 2 },
  "TG-DF-019": { bad: `${D}\nRUN zypper -n install httpd\n`, good: `${D}\nRUN zypper -n install httpd && zypper clean -a\n`, line: 2 },
  "TG-DF-020": { bad: `${D}\nRUN dnf install httpd && dnf clean all\n`, good: `${D}\nRUN dnf install -y httpd && dnf clean all\n`, line: 2 },
  "TG-DF-021": {
    bad: `${D}\nRUN python3 -m pip install -r requirements.txt\n`,
    good: `${D}\nENV PIP_NO_CACHE_DIR=1\nRUN python3 -m pip install -r requirements.txt\n`,
    line: 2,
  },
  "TG-DF-022": { bad: `${D}\nRUN pip install --no-cache-dir flask requests==2.32.3\n`, good: `${D}\nRUN pip install --no-cache-dir --upgrade pip && pip install --no-cache-dir flask==3.0.3 -r req.txt\n`, line: 2 },
  "TG-DF-023": { bad: `${D}\nRUN npm install -g typescript\n`, good: `${D}\nRUN npm install -g typescript@5.6.3 @scope/pkg@1.0.0\n`, line: 2 },
  "TG-DF-024": { bad: `${D}\nRUN npm install\n`, good: `${D}\nRUN npm ci --omit=dev\n`, line: 2 },
  "TG-DF-025": { bad: `${D}\nRUN gem install rails\n`, good: `${D}\nRUN gem install rails -v 7.2.1\n`, line: 2 },
  "TG-DF-026": { bad: `${D}\nRUN go install golang.org/x/tools/gopls@latest\n`, good: `${D}\nRUN go install golang.org/x/tools/gopls@v0.16.2\n`, line: 2 },
  "TG-DF-027": { bad: `${D}\nRUN sudo apt-get install -y x\n`, good: `${D}\nUSER root\nRUN apt-get install -y x\n`, line: 2 },
  "TG-DF-028": { bad: `${D}\nUSER 1\n`, good: `${D}\nUSER 1\nHEALTHCHECK NONE\n`, line: 1 },
  "TG-DF-029": { bad: `${D}\nHEALTHCHECK CMD ["/a"]\nHEALTHCHECK CMD ["/b"]\n`, good: `${D}\nHEALTHCHECK CMD ["/b"]\n`, line: 3 },
  "TG-DF-030": {
    bad: `FROM golang:1.23 AS build\nRUN go build -o /app .\n${D}\nRUN apt-get update && apt-get install -y --no-install-recommends gcc && rm -rf /var/lib/apt/lists/*\nCOPY --from=build /app /app\n`,
    good: `FROM golang:1.23 AS build\nRUN apt-get update && apt-get install -y gcc\n${D}\nCOPY --from=build /app /app\n`,
    line: 4,
  },
  "TG-DF-031": { bad: `${D}\nWORKDIR app\n`, good: `${D}\nWORKDIR /app\nWORKDIR $HOME\n`, line: 2 },
  "TG-DF-032": { bad: `${D}\nWORKDIR /proc/app\n`, good: `${D}\nWORKDIR /srv/app\n`, line: 2 },
  "TG-DF-033": { bad: `${D}\nEXPOSE 8080 20-30/tcp\n`, good: `${D}\nEXPOSE 8080 2222\n`, line: 2 },
  "TG-DF-034": { bad: `${D}\nEXPOSE 70000\n`, good: `${D}\nEXPOSE 65535\n`, line: 2 },
  "TG-DF-035": { bad: `${D}\nCOPY . .\n`, good: `${D}\nCOPY . .\n`, line: 2, options: { hasDockerignore: false } },
  "TG-DF-036": { bad: `${D}\nRUN chmod -R 777 /app\n`, good: `${D}\nRUN chmod -R 755 /app\n`, line: 2 },
  "TG-DF-037": { bad: "FROM quay.io/org/img:1@sha256:00\n", good: "FROM ghcr.io/org/img:1@sha256:00 AS builder\nFROM registry.example.com/base:2@sha256:00\nCOPY --from=builder /a /a\nCOPY --from=ghcr.io/org/tool:1 /t /t\n", line: 1, trusted: ["ghcr.io", "*.example.com"] },
  "TG-DF-038": { bad: `${D}\nRUN date > /build-time\n`, good: `${D}\nARG SOURCE_DATE_EPOCH\nRUN date -d @\${SOURCE_DATE_EPOCH} > /build-time\n`, line: 2 },
  "TG-DF-039": { bad: "FROM golang:1.23 AS dep\nCOPY --from=dep /a /b\n", good: "FROM golang:1.23 AS dep\nFROM alpine:3.20\nCOPY --from=dep /a /b\n", line: 2 },
  "TG-DF-040": { bad: "FROM a:1 AS build\nFROM b:1 AS Build\n", good: "FROM a:1 AS build\nFROM b:1 AS build2\n", line: 2 },
  "TG-DF-041": { bad: `${D}\nCMD ["a"]\nCMD ["b"]\n`, good: `${D}\nCMD ["a"]\nFROM x:1\nCMD ["b"]\n`, line: 3 },
  "TG-DF-042": { bad: `${D}\nENTRYPOINT ["a"]\nENTRYPOINT ["b"]\n`, good: `${D}\nENTRYPOINT ["a"]\n`, line: 3 },
  "TG-DF-043": { bad: `${D}\nCOPY a b c\n`, good: `${D}\nCOPY a b c/\n`, line: 2 },
  "TG-DF-044": { bad: `${D}\nMAINTAINER someone\n`, good: `${D}\nLABEL org.opencontainers.image.authors=someone\n`, line: 2 },
  "TG-DF-045": { bad: `${D}\nRUN cd /src && make\n`, good: `${D}\nWORKDIR /src\nRUN make\n`, line: 2 },
  "TG-DF-046": { bad: `${D}\nRUN wget -q https://a/b\nRUN curl -fsSO https://a/c\n`, good: `${D}\nRUN wget -q https://a/b\nFROM x:1\nRUN curl -fsSO https://a/c\n`, line: 3 },
  "TG-DF-047": { bad: `${D}\nCMD node server.js\n`, good: `${D}\nCMD ["node", "server.js"]\n`, line: 2 },
  "TG-DF-048": { bad: `${D}\nRUN wget -qO- https://a/b | tar xz\n`, good: `${D}\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN wget -qO- https://a/b | tar xz\n`, line: 2 },
  "TG-DF-049": {
    bad: `${D}\nRUN aws configure set aws_secret_access_key "$KEY"\n`,
    good: `${D}\nRUN --mount=type=secret,id=aws,target=/root/.aws/credentials aws s3 cp s3://bucket/x /x\n`,
    line: 2,
  },
  "TG-DF-050": { bad: `${D}\nCOPY id_rsa /root/.ssh/id_rsa\n`, good: `${D}\nCOPY known_hosts /root/.ssh/known_hosts\n`, line: 2 },
  "TG-DF-051": { bad: `${D}\nUSER node\n`, good: `${D}\nUSER 1000:1000\n`, line: 2 },
};

test("every rule has a positive and a negative case, ids are unique and well-formed", () => {
  const ids = LINT_RULES.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, /^TG-DF-\d{3}$/);
  assert.deepEqual(Object.keys(CASES).sort(), [...ids].sort());
  assert.ok(ids.length >= 40, `${ids.length} rules`);
  for (const r of LINT_RULES) {
    assert.ok(r.message.length > 0 && !r.message.includes("\n"), `${r.id} message`);
    assert.ok(r.fix.length > 0, `${r.id} fix`);
  }
});

for (const rule of LINT_RULES) {
  const c = CASES[rule.id];
  if (!c) continue;
  const config = { trusted_registries: c.trusted ?? [] };
  test(`${rule.id}: ${rule.message}`, () => {
    const bad = lintDockerfileText(c.bad, "Dockerfile", config, c.options).filter((f) => f.ruleId === rule.id);
    assert.ok(bad.length > 0, `not raised on:\n${c.bad}`);
    if (c.line !== undefined) assert.equal(bad[0]?.line, c.line);
    assert.equal(bad[0]?.severity, rule.severity);
    assert.deepEqual(bad[0]?.refs, [...rule.refs]);
    const good = lintDockerfileText(c.good, "Dockerfile", config, rule.id === "TG-DF-035" ? { hasDockerignore: true } : c.options).filter((f) => f.ruleId === rule.id);
    assert.deepEqual(good, [], `raised on:\n${c.good}`);
  });
}

// ---------------------------------------------------------------------------------------------
// Issue 11 ("smaller, from the same tries"): further cases of TG-DF-001, 010, 048 and 049.

function hitsOf(ruleId: string, text: string, config?: Parameters<typeof lintDockerfileText>[2]) {
  return lintDockerfileText(text, "Dockerfile", config).filter((f) => f.ruleId === ruleId);
}

test("TG-DF-010: apt-get dist-clean (apt 3.0: removes the package lists) cleans like rm -rf /var/lib/apt/lists/*", () => {
  for (const clean of ["apt-get dist-clean", "apt-get distclean", "apt dist-clean", "apt-get -y dist-clean"]) {
    assert.deepEqual(hitsOf("TG-DF-010", `${D}\nRUN apt-get update && apt-get install -y --no-install-recommends curl && ${clean}\nUSER 1\n`), [], clean);
  }
  // apt-get clean empties /var/cache/apt/archives only: the lists stay.
  assert.equal(hitsOf("TG-DF-010", `${D}\nRUN apt-get update && apt-get install -y --no-install-recommends curl && apt-get clean\nUSER 1\n`).length, 1);
});

test("TG-DF-048: no finding under a PowerShell, pwsh or cmd SHELL, nor on a Windows base image (cmd)", () => {
  const pipe = "RUN Get-ChildItem C:\\\\app | Select-Object Name";
  for (const shell of ['["powershell", "-Command", "$ErrorActionPreference = \'Stop\';"]', '["pwsh", "-NoLogo", "-Command"]', '["C:\\\\Program Files\\\\PowerShell\\\\7\\\\pwsh.exe", "-Command"]', '["cmd", "/S", "/C"]']) {
    assert.deepEqual(hitsOf("TG-DF-048", `FROM mcr.microsoft.com/powershell:lts-nanoserver-1809\nSHELL ${shell}\n${pipe}\n`), [], shell);
  }
  assert.deepEqual(hitsOf("TG-DF-048", `FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir C:\\\\ | findstr app\n`), []);
  // A stage built on a PowerShell stage keeps its SHELL; a later POSIX SHELL without pipefail is checked again.
  assert.deepEqual(hitsOf("TG-DF-048", `FROM mcr.microsoft.com/powershell:lts AS ps\nSHELL ["pwsh", "-Command"]\nFROM ps\n${pipe}\n`), []);
  assert.deepEqual(hitsOf("TG-DF-048", `FROM mcr.microsoft.com/powershell:lts\nSHELL ["pwsh", "-Command"]\n${pipe}\nSHELL ["/bin/sh", "-c"]\nRUN wget -qO- https://a/b | tar xz\n`).map((f) => f.line), [5]);
  // An exec-form RUN does not use the SHELL: its `sh -c` script is POSIX.
  assert.deepEqual(hitsOf("TG-DF-048", `FROM mcr.microsoft.com/powershell:lts\nSHELL ["pwsh", "-Command"]\nRUN ["/bin/sh", "-c", "wget -qO- https://a/b | tar xz"]\n`).map((f) => f.line), [3]);
  // A POSIX shell without pipefail still raises it.
  assert.equal(hitsOf("TG-DF-048", `${D}\nSHELL ["/bin/bash", "-c"]\nRUN wget -qO- https://a/b | tar xz\n`).length, 1);
});

test("TG-DF-049: curl -u user:password, mysql -pPASSWORD, wget --password on the command line", () => {
  const bad = [
    "curl -u deploy:hunter22 https://example.com/a",
    "curl --user deploy:hunter22 https://example.com/a",
    "curl -fsSLu deploy:hunter22 -o /a https://example.com/a",
    "curl -fsSL -udeploy:hunter22 https://example.com/a",
    "curl -U proxyuser:hunter22 -x http://proxy:3128 https://example.com/a",
    "mysql -uroot -phunter22 -e 'CREATE DATABASE app'",
    "mysql --password=hunter22 app < schema.sql",
    "mariadb-dump -phunter22 app > /dump.sql",
    "wget --password=hunter22 https://example.com/a",
    "wget --user=deploy --http-password hunter22 https://example.com/a",
  ];
  for (const cmd of bad) {
    const hits = hitsOf("TG-DF-049", `${D}\nRUN ${cmd}\n`);
    assert.equal(hits.length, 1, cmd);
    assert.equal(hits[0]?.severity, "error");
    assert.ok(!hits[0]?.message.includes("hunter22"), `the message shows the secret: ${hits[0]?.message}`);
  }
  const good = [
    "curl -u deploy https://example.com/a", // curl prompts for the password
    "curl -u $CREDENTIALS https://example.com/a",
    'curl -u "${USER}:${PASSWORD}" https://example.com/a',
    'curl -u "deploy:$(cat /run/secrets/pw)" https://example.com/a',
    "curl -u deploy: https://example.com/a",
    "curl -H 'X-User: a:b' -o /a https://example.com/a",
    "mysql -p app", // -p alone prompts; `app` is the database
    "mysql --password app",
    'mysql -uroot -p"$MYSQL_ROOT_PASSWORD"',
    "mysql -h db -P3306 -uroot app",
    'wget --password="$PW" https://example.com/a',
  ];
  for (const cmd of good) assert.deepEqual(hitsOf("TG-DF-049", `${D}\nRUN ${cmd}\n`), [], cmd);
  // With a secret mount the RUN reads its credential from there.
  assert.deepEqual(hitsOf("TG-DF-049", `${D}\nRUN --mount=type=secret,id=pw curl -u deploy:hunter22 https://example.com/a\n`).length, 0);
});

test("TG-DF-001: a known non-root base without USER is info, an unknown base a warning; neither fails the default gate", () => {
  for (const base of ["gcr.io/distroless/static-debian12:nonroot", "gcr.io/distroless/base-debian12:debug-nonroot", "gcr.io/distroless/cc-debian12:nonroot-arm64", "registry.example.com/team/app:1.4-nonroot"]) {
    const hits = hitsOf("TG-DF-001", `FROM ${base}\nCOPY app /app\n`);
    assert.equal(hits.length, 1, base);
    assert.equal(hits[0]?.severity, "info", base);
    assert.match(hits[0]?.message ?? "", /non-root/);
    assert.equal(reachesThreshold(hits, "error"), false);
  }
  // Built on a non-root stage: the chain's base decides.
  assert.equal(hitsOf("TG-DF-001", "FROM gcr.io/distroless/static-debian12:nonroot AS run\nFROM run\nCOPY app /app\n")[0]?.severity, "info");
  // A base chosen at build time: an ARG without a default, a stage picked by an automatic platform ARG,
  // or a name that only a later stage has (a build context: docker buildx build --build-context app=…).
  for (const text of [
    "ARG BASE\nFROM ${BASE}\nCOPY app /app\n",
    "FROM alpine:3.20 AS base-amd64\nFROM alpine:3.20 AS base-arm64\nFROM base-${TARGETARCH}\nCOPY app /app\n",
    "FROM app AS final\nFROM golang:1.23 AS app\nFROM final\n",
  ]) {
    const hits = hitsOf("TG-DF-001", text);
    assert.equal(hits.length, 1, text);
    assert.equal(hits[0]?.severity, "warning", text);
    assert.equal(reachesThreshold(hits, "error"), false);
    assert.equal(reachesThreshold(hits, "warning"), true);
  }
  // Still errors: an ARG with a default (the image built without --build-arg), a tag that is not
  // `nonroot`, distroless's default (root) tag, scratch, and an explicit root USER on a non-root base.
  for (const text of [
    "ARG BASE=debian:12\nFROM ${BASE}\n",
    "FROM example/nonroot-tools:1\n",
    "FROM gcr.io/distroless/static-debian12\n",
    "FROM gcr.io/distroless/static-debian12:latest\n",
    "FROM scratch\nCOPY app /app\n",
    "FROM node AS node\nCOPY app /app\n",
    "FROM gcr.io/distroless/static-debian12:nonroot\nUSER root\n",
  ]) {
    const hits = hitsOf("TG-DF-001", text);
    assert.equal(hits.length, 1, text);
    assert.equal(hits[0]?.severity, "error", text);
  }
  // A severity set in tollgate.yaml wins over the finding's own.
  assert.equal(hitsOf("TG-DF-001", "ARG BASE\nFROM ${BASE}\n", { severity: { "TG-DF-001": "error" } })[0]?.severity, "error");
});
