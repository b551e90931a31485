import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkChatTemplate,
  checkKerasConfig,
  checkModelContent,
  checkOnnxExternalData,
  checkSavedModel,
  MAX_FINDINGS_PER_RULE,
  MODEL_RULES,
  onnxLocationEscape,
  type CheckContext,
} from "../../src/mlmodel/checks.ts";
import { readModel, type JsonValue } from "../../src/mlmodel/formats/index.ts";
import { bufferSource } from "../../src/io/byte-source.ts";
import type { Component, Finding } from "../../src/model/index.ts";
import { gguf, pb, zip } from "./formats-fixtures.ts";

const component: Component = { ref: "file:model", name: "model", type: "machine-learning-model", hashes: [], licenses: [], locations: [{ path: "/m/model" }], dependencies: [] };
const ctx = (path = "/m/model"): CheckContext => ({ component, path });
const levels = (f: Finding[]) => f.map((x) => x.severity.level);

test("MODEL_RULES documents the four rules with title, severity and why", () => {
  assert.deepEqual(Object.keys(MODEL_RULES).sort(), ["TG-ML-GGUF-001", "TG-ML-KERAS-001", "TG-ML-ONNX-001", "TG-ML-TF-001"]);
  for (const [id, r] of Object.entries(MODEL_RULES)) {
    assert.equal(r.id, id);
    assert.ok(r.title.length > 10 && r.why.length > 50, id);
    assert.ok(["HIGH", "CRITICAL"].includes(r.severity), id);
  }
});

test("Keras: Lambda layers anywhere in the config tree; legacy .h5 CRITICAL; enable_unsafe_deserialization CRITICAL; finding shape", async () => {
  const nested: JsonValue = {
    class_name: "Sequential",
    config: {
      name: "outer",
      layers: [
        { class_name: "Dense", config: { name: "d" } },
        { class_name: "Functional", config: { name: "inner", layers: [{ class_name: "Lambda", config: { name: "hidden_lambda", function: { class_name: "__lambda__", config: { code: "4wEAAA==" } } } }] } },
      ],
    },
    compile_config: { loss: { class_name: "Lambda", config: { name: "loss_lambda" } } },
  };
  const file = zip([
    { name: "config.json", data: Buffer.from(JSON.stringify(nested)) },
    { name: "metadata.json", data: Buffer.from('{"keras_version":"3.8.0"}') },
  ]);
  const d = await readModel(bufferSource(file, "m.keras"));
  assert.ok(d);
  const f = checkModelContent(d, ctx("/m/m.keras"));
  assert.deepEqual(f.map((x) => x.matchedBy[0]!.comparison), [
    'Lambda layer "hidden_lambda" at .config.layers[1].config.layers[0]',
    "serialized Python lambda (__lambda__) at .config.layers[1].config.layers[0].config.function",
    'Lambda layer "loss_lambda" at .compile_config.loss',
  ]);
  assert.deepEqual(levels(f), ["HIGH", "HIGH", "HIGH"]);
  const one = f[0]!;
  assert.deepEqual(
    { id: one.id, aliases: one.aliases, sev: one.severity, fixed: one.fixedVersions, kind: one.matchedBy[0]!.kind, adv: one.matchedBy[0]!.advisoryId, loc: one.matchedBy[0]!.location, comp: one.component.ref },
    { id: "TG-ML-KERAS-001", aliases: ["TG-ML-KERAS-001"], sev: { level: "HIGH", source: "tollgate:model-scan" }, fixed: [], kind: "content", adv: "TG-ML-KERAS-001", loc: { path: "/m/m.keras", member: "config.json" }, comp: "file:model" },
  );
  assert.match(one.summary!, /^Keras model carries a Lambda layer/);
  const h5 = checkKerasConfig(nested, ctx(), { legacyH5: true, offset: 2104 });
  assert.deepEqual(levels(h5), ["CRITICAL", "CRITICAL", "CRITICAL"]);
  assert.equal(h5[0]!.matchedBy[0]!.location!.offset, 2104);
  const unsafe = checkKerasConfig({ class_name: "Model", config: { layers: [{ module: "keras.config", class_name: "function", config: "enable_unsafe_deserialization" }] } }, ctx(), { legacyH5: false });
  assert.deepEqual(levels(unsafe), ["CRITICAL"]);
  assert.match(unsafe[0]!.matchedBy[0]!.comparison, /enable_unsafe_deserialization at \.config\.layers\[0\]\.config/);
  assert.deepEqual(checkKerasConfig({ module: "keras", class_name: "Sequential", config: { layers: [{ module: "keras.layers", class_name: "Dense", config: { name: "Lambda" } }] } }, ctx(), { legacyH5: true }), []);
  const foreign = checkKerasConfig({ module: "keras", class_name: "Sequential", config: { layers: [{ module: "evil_pkg.layers", class_name: "Backdoor", config: {} }] } }, ctx(), { legacyH5: false });
  assert.deepEqual(foreign.map((x) => [x.severity.level, x.matchedBy[0]!.comparison]), [["MEDIUM", 'Backdoor from module "evil_pkg.layers" at .config.layers[0] (the loader imports code outside Keras)']]);
  // many Lambda layers: capped, the rest counted
  const many = { layers: Array.from({ length: 120 }, (_, i) => ({ class_name: "Lambda", config: { name: `l${i}` } })) };
  const capped = checkKerasConfig(many, ctx(), { legacyH5: false });
  assert.equal(capped.length, MAX_FINDINGS_PER_RULE);
  assert.match(capped.at(-1)!.matchedBy[0]!.comparison, /\(and 70 more not listed\)$/);
});

test("SavedModel: file and system ops and PrintV2 to a file are findings; ordinary ops are not", async () => {
  const node = (name: string, op: string, attrs: Buffer[] = []) => pb.msg(1, [pb.str(1, name), pb.str(2, op), ...attrs]);
  const attr = (key: string, s: string) => pb.msg(5, [pb.str(1, key), pb.msg(2, [pb.str(2, s)])]);
  const model = (nodes: Buffer[]) => Buffer.concat([pb.msg(2, [pb.msg(2, nodes)])]);
  const bad = await readModel(bufferSource(model([node("a", "MatMul"), node("r", "ReadFile"), node("p", "PrintV2", [attr("output_stream", "file:///etc/cron.d/x")]), node("q", "PrintV2", [attr("output_stream", "stderr")]), node("f", "EagerPyFunc")]), "saved_model.pb"));
  assert.equal(bad?.format, "tf-saved-model");
  if (bad?.format !== "tf-saved-model") return;
  const f = checkSavedModel(bad, ctx("/m/saved_model.pb"));
  assert.deepEqual(f.map((x) => [x.id, x.severity.level, x.matchedBy[0]!.comparison]), [
    ["TG-ML-TF-001", "HIGH", 'op ReadFile (reads a file) used 1 time(s), first by node "r"'],
    ["TG-ML-TF-001", "HIGH", 'op EagerPyFunc (calls a Python function of the loading process) used 1 time(s), first by node "f"'],
    ["TG-ML-TF-001", "HIGH", 'op PrintV2 node "p" prints to file:///etc/cron.d/x'],
  ]);
  const clean = await readModel(bufferSource(model([node("a", "MatMul"), node("s", "SaveV2"), node("r", "RestoreV2"), node("q", "PrintV2", [attr("output_stream", "stderr")])]), "saved_model.pb"));
  assert.ok(clean);
  assert.deepEqual(checkModelContent(clean, ctx()), []);
});

test("ONNX: external data locations that leave the model directory are CRITICAL; relative ones pass", async () => {
  for (const [loc, why] of [
    ["/etc/passwd", "is an absolute path"],
    ["../../secret.bin", "goes up with .."],
    ["weights/../../x", "goes up with .."],
    ["..\\..\\win.ini", "goes up with .."],
    ["C:\\Windows\\x", "is a Windows drive path"],
    ["\\\\server\\share\\x", "is an absolute path"],
    ["a\0b", "contains a NUL byte"],
  ] as const) assert.equal(onnxLocationEscape(loc), why, loc);
  for (const ok of ["weights.bin", "sub/dir/w.bin", "..foo/w.bin", "w..bin", "./w.bin"]) assert.equal(onnxLocationEscape(ok), undefined, ok);
  const ext = (name: string, loc: string) => pb.msg(5, [pb.str(8, name), pb.msg(13, [pb.str(1, "location"), pb.str(2, loc)]), pb.int(14, 1)]);
  const file = Buffer.concat([pb.int(1, 8), pb.msg(7, [ext("ok", "w.bin"), ext("evil", "../../../../etc/shadow")])]);
  const d = await readModel(bufferSource(file, "m.onnx"));
  assert.equal(d?.format, "onnx");
  if (d?.format !== "onnx") return;
  const f = checkOnnxExternalData(d, ctx("/m/m.onnx"));
  assert.equal(f.length, 1);
  assert.deepEqual([f[0]!.id, f[0]!.severity.level, f[0]!.matchedBy[0]!.comparison], ["TG-ML-ONNX-001", "CRITICAL", 'tensor "evil" (graph) external data location "../../../../etc/shadow" goes up with ..']);
  assert.equal(file[f[0]!.matchedBy[0]!.location!.offset!], (5 << 3) | 2);
});

test("GGUF chat templates: injection payloads found with their file offset; real templates pass", async () => {
  // CVE-2024-34359 proof of concept shape
  const evil = "{% for m in messages %}{{ m['content'] }}{% endfor %}{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}";
  const file = gguf([{ key: "general.architecture", type: "string", value: "llama" }, { key: "tokenizer.chat_template", type: "string", value: evil }], [], 0);
  const d = await readModel(bufferSource(file, "m.gguf"));
  assert.ok(d);
  const f = checkModelContent(d, ctx("/m/m.gguf"));
  assert.ok(f.length >= 3, JSON.stringify(f.map((x) => x.matchedBy[0]!.comparison)));
  assert.ok(f.every((x) => x.id === "TG-ML-GGUF-001"));
  assert.equal(f[0]!.severity.level, "CRITICAL");
  assert.match(f[0]!.matchedBy[0]!.comparison, /reaches Python internals: "__globals__"/);
  const off = f[0]!.matchedBy[0]!.location!.offset!;
  assert.equal(file.subarray(off, off + 11).toString(), "__globals__");
  const cases: [string, string | undefined][] = [
    ["{{ cycler.__init__.__globals__.os.popen('id').read() }}", "CRITICAL"],
    ["{{ joiner.__init__ }}", "CRITICAL"],
    ["{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}", "HIGH"],
    ["{{ ()|attr('__class__') }}", "HIGH"],
    ["{% set x = lipsum.__globals__ %}", "CRITICAL"],
    ["{{ [].__class__.__base__ }}", "CRITICAL"],
    ["{{ x.__class__ }}", "HIGH"],
    ["{{ namespace.__init__ }}", "CRITICAL"],
    ["{{ request.application }}", undefined],
    // literal text that talks about dunders is not template code
    ["You are a Python tutor. Explain __init__ and os.system to the user. {{ messages[0]['content'] }}", undefined],
    // real-world templates (Llama 3.1 style, ChatML, Mistral): no findings
    ["{%- set ns = namespace(found=false) -%}{%- for message in messages -%}{%- if message['role'] == 'system' -%}{%- set ns.found = true -%}{%- endif -%}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{%- endfor -%}{%- if add_generation_prompt -%}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif -%}", undefined],
    ["{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}", undefined],
    ["{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% endif %}{% endfor %}", undefined],
  ];
  for (const [tpl, want] of cases) {
    const r = checkChatTemplate(tpl, ctx());
    assert.equal(r[0]?.severity.level, want, `${tpl} → ${JSON.stringify(r.map((x) => x.matchedBy[0]!.comparison))}`);
  }
  // named templates (tokenizer.chat_template.<name>) are checked too
  const named = gguf([{ key: "tokenizer.chat_template.tool_use", type: "string", value: "{{ x.__subclasses__() }}" }], [], 0);
  const nd = await readModel(bufferSource(named, "n.gguf"));
  assert.ok(nd);
  const nf = checkModelContent(nd, ctx());
  assert.match(nf[0]!.matchedBy[0]!.comparison, /^tokenizer\.chat_template\.tool_use reaches Python internals/);
});
